#define _GNU_SOURCE
#include "CSocketFactory.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

struct request { int domain; int type; };
struct reply { int error; };

/// Sends `size` bytes and, when fd >= 0, the descriptor with them.
static ssize_t send_with_fd(int sock, const void *data, size_t size, int fd) {
    struct iovec iov = { .iov_base = (void *)data, .iov_len = size };
    union { struct cmsghdr header; char bytes[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr message = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        memset(&control, 0, sizeof(control));
        message.msg_control = control.bytes;
        message.msg_controllen = sizeof(control.bytes);
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(header), &fd, sizeof(int));
    }
    ssize_t sent;
    do { sent = sendmsg(sock, &message, MSG_NOSIGNAL); } while (sent < 0 && errno == EINTR);
    return sent;
}

/// Receives up to `size` bytes and the descriptor sent with them (-1 when none) into *fd.
static ssize_t receive_with_fd(int sock, void *data, size_t size, int *fd) {
    struct iovec iov = { .iov_base = data, .iov_len = size };
    union { struct cmsghdr header; char bytes[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr message = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = control.bytes, .msg_controllen = sizeof(control.bytes) };
    ssize_t received;
    do { received = recvmsg(sock, &message, MSG_CMSG_CLOEXEC); } while (received < 0 && errno == EINTR);
    *fd = -1;
    if (received < 0) return received;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) memcpy(fd, CMSG_DATA(header), sizeof(int));
    }
    return received;
}

/// Closes every descriptor from `first` up (close_range(2) since 5.9, a loop before it).
static void close_from(int first) {
    if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0) return;
    struct rlimit limit;
    long last = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY ? (long)limit.rlim_cur : 65536;
    for (long fd = first; fd < last; fd++) close((int)fd);
}

/// The child: only async-signal-safe calls from here on (it was forked from a threaded process).
/// It ends when the parent closes its end of `control` (or dies: the kernel closes it then).
/// PR_SET_PDEATHSIG would tie it to the forking thread, which may end long before the test.
static void serve(int control) {
    if (control != 3) { dup2(control, 3); control = 3; }
    close_from(4);
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    for (;;) {
        struct request request;
        int netns;
        ssize_t received = receive_with_fd(control, &request, sizeof(request), &netns);
        if (received == 0) _exit(0);
        if (received != (ssize_t)sizeof(request)) {
            if (netns >= 0) close(netns);
            if (received < 0) _exit(1);
            continue;
        }
        struct reply reply = { 0 };
        int fd = -1;
        if (netns >= 0 && setns(netns, CLONE_NEWNET) != 0) {
            reply.error = errno;
        } else {
            fd = socket(request.domain, request.type | SOCK_CLOEXEC, 0);
            if (fd < 0) reply.error = errno;
            if (netns >= 0 && home >= 0) setns(home, CLONE_NEWNET);
        }
        if (netns >= 0) close(netns);
        send_with_fd(control, &reply, sizeof(reply), fd);
        if (fd >= 0) close(fd);
    }
}

pid_t socket_factory_start(int *control) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int error = errno;
        close(pair[0]);
        close(pair[1]);
        return -error;
    }
    if (pid == 0) {
        close(pair[0]);
        serve(pair[1]);
        _exit(0);
    }
    close(pair[1]);
    *control = pair[0];
    return pid;
}

int socket_factory_socket(int control, int domain, int type, int netns) {
    struct request request = { .domain = domain, .type = type };
    if (send_with_fd(control, &request, sizeof(request), netns) != (ssize_t)sizeof(request)) return errno ? -errno : -EPIPE;
    struct reply reply;
    int fd;
    ssize_t received = receive_with_fd(control, &reply, sizeof(reply), &fd);
    if (received != (ssize_t)sizeof(reply)) {
        if (fd >= 0) close(fd);
        return received < 0 ? -errno : -EPIPE;
    }
    if (reply.error != 0) {
        if (fd >= 0) close(fd);
        return -reply.error;
    }
    return fd;
}
