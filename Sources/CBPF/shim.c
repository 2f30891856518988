#include "CBPF.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

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
