#include "CBPFHost.h"

#include <errno.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

int cbpf_socket_cookie(int fd, uint64_t *cookie)
{
    socklen_t len = sizeof(*cookie);
    return getsockopt(fd, SOL_SOCKET, SO_COOKIE, cookie, &len) == 0 ? 0 : -errno;
}

uint64_t cbpf_memlock_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
        return UINT64_MAX;
    }
    return (uint64_t)limit.rlim_cur;
}

int cbpf_memlock_raise(void)
{
    struct rlimit limit = { .rlim_cur = RLIM_INFINITY, .rlim_max = RLIM_INFINITY };
    if (setrlimit(RLIMIT_MEMLOCK, &limit) == 0) {
        return 0;
    }
    int error = errno;
    /* Without CAP_SYS_RESOURCE the soft limit can still go up to the hard one. */
    if (getrlimit(RLIMIT_MEMLOCK, &limit) == 0 && limit.rlim_cur != limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        (void)setrlimit(RLIMIT_MEMLOCK, &limit);
    }
    return -error;
}

int cbpf_enter_network_namespace(int fd)
{
    return setns(fd, CLONE_NEWNET) == 0 ? 0 : -errno;
}
