#ifndef C_SOCKET_FACTORY_H
#define C_SOCKET_FACTORY_H

#include <sys/types.h>

/// Forks a child process that makes sockets on request and passes them back over a Unix socket.
/// A socket keeps the cgroup and the network namespace of the process that created it, so the
/// tests move this child (not the test runner, whose other threads open sockets of their own)
/// into an accelerated cgroup and have it create the sockets they need there.
/// The child keeps no other descriptor of the parent's and exits when the parent dies or closes
/// `*control`. Returns the child's pid, or -errno.
pid_t socket_factory_start(int *control);

/// Asks the factory behind `control` for socket(domain, type, 0), created in the network
/// namespace `netns` (a descriptor of /var/run/netns/NAME or /proc/PID/ns/net; -1: the
/// factory's own). Returns the new descriptor (close-on-exec) or -errno.
int socket_factory_socket(int control, int domain, int type, int netns);

#endif
