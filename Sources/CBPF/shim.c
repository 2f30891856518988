#include "CBPF.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

_Static_assert(sizeof(union bpf_attr) >= 120, "union bpf_attr smaller than expected");

long cbpf_bpf(int cmd, union bpf_attr *attr, unsigned int size)
{
    long rc;
    do {
        rc = syscall(__NR_bpf, cmd, attr, size);
    } while (rc < 0 && errno == EINTR);
    return rc < 0 ? -errno : rc;
}

unsigned int cbpf_attr_size(void)
{
    return (unsigned int)sizeof(union bpf_attr);
}

int cbpf_mount_bpffs(const char *target)
{
    return mount("bpf", target, "bpf", 0, "mode=0700") == 0 ? 0 : -errno;
}

int cbpf_socket_cookie(int fd, uint64_t *cookie)
{
    socklen_t len = sizeof(*cookie);
    return getsockopt(fd, SOL_SOCKET, SO_COOKIE, cookie, &len) == 0 ? 0 : -errno;
}
