// CBPF: the only C in swift-sockmap. Swift cannot call the variadic syscall(2), and
// errno must be read immediately after the call, so each wrapper returns -errno on failure.
#ifndef CBPF_H
#define CBPF_H

#include <linux/bpf.h>
#include <stdint.h>

/// Why: bpf(2) has no glibc wrapper and syscall(2) is variadic.
/// Returns the syscall's result, or -errno on failure (EINTR is retried).
long cbpf_bpf(int cmd, union bpf_attr *attr, unsigned int size);

/// Why: the size Swift must pass for `union bpf_attr`, as this header knows it.
unsigned int cbpf_attr_size(void);

#include "CBPFHost.h"

#endif
