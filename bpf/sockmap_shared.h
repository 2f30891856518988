/* Layouts shared by the BPF programs and swift-sockmap (which decodes them by these offsets). */
#ifndef SOCKMAP_SHARED_H
#define SOCKMAP_SHARED_H

#include <linux/types.h>

#define AF_INET 2
#define AF_INET6 10

/* A connection as seen from one socket. 48 bytes, no padding. Addresses are IPv6 in network
 * byte order (IPv4 as ::ffff:a.b.c.d); ports are in host byte order. */
struct sock_key {
    __u64 netns;          /* bpf_get_netns_cookie() of the socket's namespace */
    __u32 local_ip[4];
    __u32 remote_ip[4];
    __u32 local_port;
    __u32 remote_port;
};

enum sockmap_counter {
    COUNTER_SOCKETS_INSERTED = 0,
    COUNTER_INSERT_FAILED = 1,
    COUNTER_MESSAGES_REDIRECTED = 2,
    COUNTER_BYTES_REDIRECTED = 3,
    COUNTER_REDIRECT_MISSED = 4,
    COUNTER_SKIPPED_BY_POLICY = 5,
    COUNTER_KEPT_ON_TCP = 6,   /* sends of sockets that once took the TCP path, kept there */
    COUNTER_SKIPPED_NOT_LOCAL = 7,  /* sockets whose peer is not on this host (not inserted) */
    COUNTER_SKIPPED_EARLY_DATA = 8, /* sockets that moved data before ESTABLISHED (TCP Fast Open) */
    COUNTER_SKIPPED_PAUSED = 9,     /* sockets established while paused or detaching */
    COUNTER_BACKPRESSURE_TO_TCP = 10, /* sending sides moved to TCP because the peer's unread data was over its limit */
    COUNTER_SOCKETS_RELEASED = 11,  /* sockets taken out of the map once on TCP with nothing redirected left unread */
    COUNTER_MAX = 16,
};

/* Policy entries: port only (ip all zero), or address only (port 0). */
struct policy_key {
    __u32 port;
    __u32 ip[4];
};

enum { POLICY_MODE_DENY = 0, POLICY_MODE_ALLOW = 1 };

/* Bits of sockmap_config.flags. */
enum { CONFIG_PASSTHROUGH = 1 }; /* stop redirecting: every send takes the TCP path (detach, pause) */

struct sockmap_config {
    __u32 policy_mode;
    __u32 flags;
};

/* One socket in a sockmap as the "iter/tcp" program reports it (`detach`'s sweep of idle
 * connections, decoded by IdleSweep.decode in Swift). */
struct sweep_record {
    __u64 cookie; /* the socket cookie, as a SOCKHASH lookup returns it */
    __u32 flags;  /* SWEEP_* */
    __u32 reserved;
};

enum {
    SWEEP_SENDS_IDLE = 1,  /* one map link and no thread inside its sendmsg() or recvmsg(): no redirect of its in flight */
    SWEEP_QUEUE_EMPTY = 2, /* nothing redirected to it waits unread */
};

/* Swift decodes these layouts by offset (SockKey, PolicyEntry, DataPath.Config, IdleSweep). */
_Static_assert(sizeof(struct sock_key) == 48, "sock_key layout");
_Static_assert(__builtin_offsetof(struct sock_key, local_ip) == 8, "sock_key layout");
_Static_assert(__builtin_offsetof(struct sock_key, remote_ip) == 24, "sock_key layout");
_Static_assert(__builtin_offsetof(struct sock_key, local_port) == 40, "sock_key layout");
_Static_assert(__builtin_offsetof(struct sock_key, remote_port) == 44, "sock_key layout");
_Static_assert(sizeof(struct policy_key) == 20, "policy_key layout");
_Static_assert(sizeof(struct sockmap_config) == 8, "sockmap_config layout");
_Static_assert(sizeof(struct sweep_record) == 16, "sweep_record layout");

#endif
