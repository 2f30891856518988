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
    COUNTER_MAX = 8,
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

#endif
