/* Layouts shared by the BPF programs and swift-sockmap (which decodes them by these offsets). */
#ifndef SOCKMAP_SHARED_H
#define SOCKMAP_SHARED_H

#include <linux/types.h>

#define AF_INET 2
#define AF_INET6 10

/* One end of a connection. 40 bytes. Addresses are IPv6 in network byte order (IPv4 as
 * ::ffff:a.b.c.d); ports are in host byte order. */
struct sock_key {
    __u32 local_ip[4];
    __u32 remote_ip[4];
    __u32 local_port;
    __u32 remote_port;
};

/* What the data path knows of a socket in the SOCKHASH: the head of its state in `sock_state` (struct
 * sock_state), reported for every such socket by the `sockmap_sockets` iterator for `dump-map` and
 * `detach`'s sweep (SocketRecord in Swift). Its cookie (also its SOCKHASH key), its peer's cookie
 * once known, and the connection as this socket sees it, in its own network namespace. The
 * connecting side learns its peer from its claimed token, at its first send or callback after the
 * claim: until then only the accepting side's record names the pair. 64 bytes. */
struct socket_record {
    __u64 cookie;         /* the socket's cookie; 0: not in the map */
    __u64 peer;           /* the peer socket's cookie; 0 until known */
    __u64 netns;          /* bpf_get_netns_cookie() of the socket's namespace */
    struct sock_key key;
};

/* The pairing option: a TCP experimental option (kind 254, RFC 6994) with our 16-bit ExID and a
 * random, single-use 64-bit token, in the SYN of a connection whose destination can be on this
 * host. 12 bytes. */
#define PAIR_OPTION_KIND 254
#define PAIR_OPTION_EXID 0x5AC5
#define PAIR_OPTION_LEN 12

/* A token on its way (`pending`, keyed by the token): sent in a SYN, answered in the SYN-ACK of a
 * listener of the cgroup with an echo only that listener knows, confirmed by the connecting side
 * when that SYN-ACK arrives, shown again in the handshake's last ACK and claimed there by the
 * accepted socket, which publishes its cookie in it for the connecting side to read at its first
 * send (then the token goes). 48 bytes. */
struct pending_token {
    __u64 cookie;     /* the connecting socket */
    __u64 sent_ns;    /* bpf_ktime_get_ns() of the last SYN that carried it */
    __u64 echo;       /* the listener's random answer, 0 until a listener answered */
    __u64 answerer;   /* a fingerprint of the answered connection as the listener sees it */
    __u32 confirmed;  /* 1 once the connecting side received the answer in its SYN-ACK */
    __u32 reserved;
    __u64 peer;       /* 0: unclaimed; its cookie | PEER_CLAIM_BIT: claimed by an accepted socket
                       * (compare-and-exchange: a token pairs once), which is entering the map;
                       * then that socket's cookie */
};

/* Socket cookies count up from 1 and never reach the top bit. */
#define PEER_CLAIM_BIT (1ULL << 63)
/* The connecting side gave the token up before any claim (it left the map unpaired). */
#define PEER_WITHDRAWN PEER_CLAIM_BIT

/* Destinations the SYN option may be written toward, and sources it is accepted from, besides
 * loopback and the socket's own address (`local_nets`, an LPM trie): the host's and its network
 * namespaces' addresses and the operator's prefixes, written by `load`. IPv4 as ::ffff:a.b.c.d
 * with 96 added to its prefix length. */
struct local_net_key {
    __u32 prefixlen;
    __u32 ip[4];
};

enum sockmap_counter {
    COUNTER_SOCKETS_INSERTED = 0,
    COUNTER_INSERT_FAILED = 1,
    COUNTER_MESSAGES_REDIRECTED = 2,
    COUNTER_BYTES_REDIRECTED = 3,
    COUNTER_REDIRECT_MISSED = 4,
    COUNTER_SKIPPED_BY_POLICY = 5,
    COUNTER_KEPT_ON_TCP = 6,   /* sends of sockets that once took the TCP path, kept there */
    COUNTER_SKIPPED_NOT_LOCAL = 7,  /* connects toward a destination that cannot be on this host (no token offered) */
    COUNTER_SKIPPED_EARLY_DATA = 8, /* sockets that moved data before ESTABLISHED (TCP Fast Open) */
    COUNTER_SKIPPED_PAUSED = 9,     /* sockets established while paused or detaching */
    COUNTER_BACKPRESSURE_TO_TCP = 10, /* detours over TCP: a sending side whose peer's unread data was over its limit */
    COUNTER_SOCKETS_RELEASED = 11,  /* sockets taken out of the map once on TCP with nothing redirected left unread */
    COUNTER_TOKENS_OFFERED = 12,    /* SYNs that carried a pairing token */
    COUNTER_SOCKETS_PAIRED = 13,    /* accepted sockets paired with their connecting socket by its token */
    COUNTER_NO_TOKEN = 14,          /* accepted sockets whose SYN carried no token (peer outside the cgroup, no room), or whose listener predates load */
    COUNTER_TOKEN_REJECTED = 15,    /* tokens refused: unknown, already used, expired, or from a source that cannot be on this host */
    COUNTER_NO_OPTION_ROOM = 16,    /* SYNs with no room left for the option: that connection stays on TCP */
    COUNTER_PEER_GONE = 17,         /* tokens whose connecting socket had already left the fast path or the map */
    COUNTER_UNANSWERED = 18,        /* connecting sockets whose SYN-ACK brought no valid answer (a listener outside the cgroup or from before load): they stay on TCP */
    COUNTER_RETURNED_TO_FAST_PATH = 19, /* detours that ended: the sending side redirects again */
    COUNTER_BYTES_DETOURED = 20,    /* bytes sent over TCP on a detour */
    COUNTER_MAX = 24,
};

/* Policy entries: port only (ip all zero), or address only (port 0). */
struct policy_key {
    __u32 port;
    __u32 ip[4];
};

enum { POLICY_MODE_DENY = 0, POLICY_MODE_ALLOW = 1 };

/* Bits of sockmap_config.flags. */
enum {
    CONFIG_PASSTHROUGH = 1, /* stop redirecting: every send takes the TCP path (detach, pause) */
    CONFIG_HAS_POLICY = 2,  /* the policy map has entries: without, no connection needs a lookup */
};

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

/* One listener as the "iter/tcp" adoption program reports it (ListenerAdoption in Swift):
 * listeners of the cgroup opened before `load` get the header-option callbacks their SYN-ACKs
 * need to answer pairing tokens. */
struct adopt_record {
    __u64 cgroup; /* the id of the listening socket's cgroup (the accelerated one or below it) */
    __s32 error;  /* 0: adopted; else the -errno of bpf_getsockopt/bpf_setsockopt (EINVAL: the kernel lacks TCP_BPF_SOCK_OPS_CB_FLAGS, 6.12) */
    __u32 port;   /* its local port */
};

/* Swift decodes these layouts by offset (SocketRecord, PolicyEntry, DataPath.Config, LocalNetworks, IdleSweep). */
_Static_assert(sizeof(struct sock_key) == 40, "sock_key layout");
_Static_assert(__builtin_offsetof(struct sock_key, remote_ip) == 16, "sock_key layout");
_Static_assert(__builtin_offsetof(struct sock_key, local_port) == 32, "sock_key layout");
_Static_assert(sizeof(struct socket_record) == 64, "socket_record layout");
_Static_assert(__builtin_offsetof(struct socket_record, key) == 24, "socket_record layout");
_Static_assert(sizeof(struct local_net_key) == 20, "local_net_key layout");
_Static_assert(sizeof(struct pending_token) == 48, "pending_token layout");
_Static_assert(sizeof(struct policy_key) == 20, "policy_key layout");
_Static_assert(sizeof(struct sockmap_config) == 8, "sockmap_config layout");
_Static_assert(sizeof(struct sweep_record) == 16, "sweep_record layout");
_Static_assert(sizeof(struct adopt_record) == 16, "adopt_record layout");

#endif
