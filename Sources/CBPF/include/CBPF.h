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

/// Why: mount(2) with the bpf filesystem type, to create /sys/fs/bpf when it is missing.
/// Returns 0 or -errno.
int cbpf_mount_bpffs(const char *target);

/// Why: getsockopt(SO_COOKIE) reads the socket cookie the kernel stores in a SOCKHASH.
/// Returns 0 or -errno.
int cbpf_socket_cookie(int fd, uint64_t *cookie);

/// Why: kernels before 5.11 charge BPF maps and programs to RLIMIT_MEMLOCK, which Swift cannot
/// name (the RLIM_INFINITY macro and the rlimit resource enum do not import cleanly).
/// Returns the soft limit in bytes, or UINT64_MAX when it is unlimited (or cannot be read).
uint64_t cbpf_memlock_limit(void);

/// Why: raises RLIMIT_MEMLOCK (soft and hard) to RLIM_INFINITY, as libbpf does on such kernels.
/// Returns 0 or -errno (EPERM without CAP_SYS_RESOURCE: the soft limit is then raised to the hard one).
int cbpf_memlock_raise(void);

/// Why: an EPERM from bpf(2) means something else when the caller already is root.
int cbpf_is_root(void);

#endif
