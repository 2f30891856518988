// The host-system part of CBPF: the few non-bpf(2) calls Swift cannot make itself. Everything
// Swift can call directly (mount, flock, rename, mkdir, open, geteuid) is in BPFLoader's Host/.
#ifndef CBPF_HOST_H
#define CBPF_HOST_H

#include <stdint.h>

/// Why: SO_COOKIE is missing from older glibc headers (defined here as the kernel's 57 then), so
/// Swift cannot name it portably. getsockopt(SO_COOKIE) reads the socket cookie a SOCKHASH stores.
/// Returns 0 or -errno.
int cbpf_socket_cookie(int fd, uint64_t *cookie);

/// Why: kernels before 5.11 charge BPF maps and programs to RLIMIT_MEMLOCK, which Swift cannot
/// name (the RLIM_INFINITY macro and the rlimit resource enum do not import cleanly).
/// Returns the soft limit in bytes, or UINT64_MAX when it is unlimited (or cannot be read).
uint64_t cbpf_memlock_limit(void);

/// Why: raises RLIMIT_MEMLOCK (soft and hard) to RLIM_INFINITY, as libbpf does on such kernels.
/// Returns 0 or -errno (EPERM without CAP_SYS_RESOURCE: the soft limit is then raised to the hard one).
int cbpf_memlock_raise(void);

/// Why: glibc's setns(2) is declared only under _GNU_SOURCE, which Swift's Glibc module does not
/// see. Moves the calling thread into the network namespace `fd` refers to (`/proc/PID/ns/net`).
/// Returns 0 or -errno.
int cbpf_enter_network_namespace(int fd);

#endif
