/* swift-sockmap's data path.
 *
 * sock_ops: when a TCP socket of the attached cgroup becomes ESTABLISHED, record it in
 *           `sock_hash`, keyed by the connection as seen from that socket.
 * sk_msg:   on every sendmsg() of a recorded socket, build the *peer's* key and hand the data
 *           straight to the peer's receive queue (bpf_msg_redirect_hash with BPF_F_INGRESS).
 *           A miss (peer not recorded) falls back to ordinary TCP: we always return SK_PASS.
 *
 * Keys carry the network-namespace cookie, so equal 4-tuples in two namespaces never collide,
 * and store every address as IPv6 (IPv4 as ::ffff:a.b.c.d), so a dual-stack AF_INET6 socket
 * and its AF_INET peer produce matching keys. */
#include "sockmap_helpers.h"
#include "sockmap_kernel_types.h"
#include "sockmap_shared.h"

char _license[] SEC("license") = "GPL";

/* Trace switch, set at load time (`swift-sockmap load --set debug=1`, read with
 * `swift-sockmap trace`). It lives in frozen .rodata, so with debug == 0 the verifier proves the
 * trace branches dead and removes them: the hot path pays nothing. */
const volatile __u32 debug = 0;

/* Backpressure: a send is redirected only while the peer's unread bytes are at most
 * max(its SO_RCVBUF, backpressure_floor); above that, this sending side moves to TCP for good
 * and TCP's flow control (EAGAIN, EPOLLOUT, blocking, SO_SNDTIMEO) takes over. The floor, 4 MiB
 * (tcp_wmem's default maximum), gives the redirect path the room a TCP sender's send buffer
 * would have, so a reader briefly behind a bulk writer keeps the fast path
 * (`load --set backpressure_floor=N`). */
const volatile __u32 backpressure_floor = 4 << 20;

/* A socket on TCP is taken out of the map (back to plain TCP speed) once nothing redirected waits
 * unread in it, and at least this long after its peer was told to stop redirecting into it: a
 * redirect the peer had already decided on must have landed by then. */
#define RELEASE_GRACE_NS (10ULL * 1000 * 1000)

struct {
    __uint(type, BPF_MAP_TYPE_SOCKHASH);
    __type(key, struct sock_key);
    __type(value, __u64); /* 8 bytes: user-space lookups return the socket cookie */
    __uint(max_entries, 65536);
} sock_hash SEC(".maps");

/* Sockets whose sends once took the TCP path (the peer was not in the map yet, redirection was
 * paused, or the socket was shutting down). They stay on TCP for good: the receiver drains its
 * redirect queue before its TCP receive queue, so redirecting again while TCP bytes may still be
 * unread would deliver later bytes first. */
struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, __u32);
} tcp_only SEC(".maps");

/* Sockets on their way out of the map (key: the socket's own key; value: since when, ktime ns):
 * their peers must not redirect into them any more. LRU: an entry lost to eviction only matters
 * during the grace period, after which the socket has left the map and redirects into it miss. */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __type(key, struct sock_key);
    __type(value, __u64);
    __uint(max_entries, 16384);
} closing SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, COUNTER_MAX);
} counters SEC(".maps");

/* Operator policy: which connections to leave alone (deny) or to accelerate only (allow). */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct policy_key);
    __type(value, __u32);
    __uint(max_entries, 1024);
} policy SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct sockmap_config);
    __uint(max_entries, 1);
} config SEC(".maps");

static __always_inline void count(__u32 index, __u64 amount)
{
    __u64 *value = bpf_map_lookup_elem(&counters, &index);
    if (value)
        __sync_fetch_and_add(value, amount); /* per-CPU, but sock_ops may run in process and softirq context */
}

/* Fills a 16-byte address from a context's ip4 and ip6 fields. Every field is read at its fixed
 * offset, unconditionally, and hidden from the optimiser (barrier_var) before the choice: the
 * verifier rejects context reads through a computed pointer, which is what the compiler makes of
 * "cond ? ctx->a : ctx->b". IPv4 becomes ::ffff:a.b.c.d. */
#define SET_IP(dst, family, ctx, ip4_field, ip6_field)                     \
    do {                                                                   \
        __u32 v4 = (ctx)->ip4_field;                                       \
        __u32 w0 = (ctx)->ip6_field[0], w1 = (ctx)->ip6_field[1];          \
        __u32 w2 = (ctx)->ip6_field[2], w3 = (ctx)->ip6_field[3];          \
        barrier_var(v4); barrier_var(w0); barrier_var(w1);                 \
        barrier_var(w2); barrier_var(w3);                                  \
        int is4 = (family) == AF_INET;                                     \
        (dst)[0] = is4 ? 0 : w0;                                           \
        (dst)[1] = is4 ? 0 : w1;                                           \
        (dst)[2] = is4 ? bpf_htonl(0x0000ffff) : w2;                       \
        (dst)[3] = is4 ? v4 : w3;                                          \
    } while (0)

static __always_inline int policy_matches(const __u32 ip[4], __u32 port)
{
    struct policy_key key = {};
    key.port = port;
    if (bpf_map_lookup_elem(&policy, &key))
        return 1;
    key.port = 0;
    key.ip[0] = ip[0];
    key.ip[1] = ip[1];
    key.ip[2] = ip[2];
    key.ip[3] = ip[3];
    return bpf_map_lookup_elem(&policy, &key) != 0;
}

/* ::1, or ::ffff:127.x.y.z (IPv4 loopback as stored in keys). */
static __always_inline int is_loopback(const __u32 ip[4])
{
    if (ip[0] != 0 || ip[1] != 0)
        return 0;
    if (ip[2] == 0 && ip[3] == bpf_htonl(1))
        return 1;
    return ip[2] == bpf_htonl(0x0000ffff) && (bpf_ntohl(ip[3]) >> 24) == 127;
}

static __always_inline int same_ip(const __u32 a[4], const __u32 b[4])
{
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/* Decide once per socket, from both endpoints, so both sockets of a connection agree. */
static __always_inline int policy_allows(const struct sock_key *key)
{
    __u32 zero = 0;
    struct sockmap_config *cfg = bpf_map_lookup_elem(&config, &zero);
    __u32 mode = cfg ? cfg->policy_mode : POLICY_MODE_DENY;
    int matched = policy_matches(key->local_ip, key->local_port) ||
                  policy_matches(key->remote_ip, key->remote_port);
    return mode == POLICY_MODE_ALLOW ? matched : !matched;
}

/* Marks a socket whose bytes just took (or are about to take) the TCP path. */
static __always_inline void keep_on_tcp(struct bpf_sock *sk)
{
    bpf_sk_storage_get(&tcp_only, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
}

/* Whether the socket this message was just redirected to already holds more unread bytes than
 * it may: max(its SO_RCVBUF, backpressure_floor). sk_msg programs cannot release a socket taken
 * from the map (no bpf_sk_release), so the receiver is read through the kernel's sk_msg: the
 * context's sk_redir, set by bpf_msg_redirect_hash(). Fault-safe reads (bpf_probe_read_kernel);
 * a failed read counts as room. */
static __always_inline int redirected_to_full_peer(struct sk_msg_md *msg)
{
    struct sk_msg___sockmap *kernel_msg = (void *)msg;
    struct sock___sockmap *peer = 0;
    if (bpf_probe_read_kernel(&peer, sizeof(peer), &kernel_msg->sk_redir) || !peer)
        return 0;
    int queued = 0, limit = 0;
    if (bpf_probe_read_kernel(&queued, sizeof(queued), &peer->sk_backlog.rmem_alloc.counter) ||
        bpf_probe_read_kernel(&limit, sizeof(limit), &peer->sk_rcvbuf))
        return 0;
    if (limit < (int)backpressure_floor)
        limit = (int)backpressure_floor;
    return queued > limit;
}

/* The connection as seen from the socket of a sock_ops callback. */
static __always_inline void sockops_key(struct bpf_sock_ops *skops, __u32 family, struct sock_key *key)
{
    key->netns = bpf_get_netns_cookie(skops);
    SET_IP(key->local_ip, family, skops, local_ip4, local_ip6);
    SET_IP(key->remote_ip, family, skops, remote_ip4, remote_ip6);
    key->local_port = skops->local_port;                 /* host byte order */
    key->remote_port = bpf_ntohl(skops->remote_port);    /* network order in the high half */
}

/* Bytes charged to a socket's receive side (TCP skbs and redirected messages alike), or -1. */
static __always_inline int receive_bytes(void *sk)
{
    struct sock___sockmap *s = bpf_skc_to_tcp_sock(sk);
    return s ? s->sk_backlog.rmem_alloc.counter : -1;
}

/* Takes a socket that is on TCP out of the map once nothing redirected waits unread in it (its
 * receive memory is zero), so it runs at plain TCP speed again. Called from the RTT callback,
 * which fires only for ACKs of data that crossed TCP: sockets still redirecting pay nothing.
 * First call: record in `closing` that nothing may be redirected into this socket any more (the
 * peer's sk_msg sees it and moves to TCP: order kept, the receiver reads its redirect queue
 * first) and start the grace period. Calls after it: remove the socket if its receive memory is
 * zero; removing it frees its redirect queue, so a socket with anything unread waits for a later
 * ACK. Once it is out of the map, the peer's redirects miss, so the `closing` entry can go. */
static __always_inline void release_when_drained(struct bpf_sock_ops *skops)
{
    struct bpf_sock *sk = skops->sk;
    if (!sk || !bpf_sk_storage_get(&tcp_only, sk, 0, 0))
        return;
    __u32 family = skops->family;
    if (family != AF_INET && family != AF_INET6)
        return;
    struct sock_key key = {};
    sockops_key(skops, family, &key);

    __u64 now = bpf_ktime_get_ns();
    __u64 *since = bpf_map_lookup_elem(&closing, &key);
    if (!since) {
        bpf_map_update_elem(&closing, &key, &now, BPF_ANY);
        return;
    }
    if (now - *since < RELEASE_GRACE_NS || receive_bytes(sk) != 0)
        return;
    if (bpf_map_delete_elem(&sock_hash, &key) == 0)
        count(COUNTER_SOCKETS_RELEASED, 1);
    bpf_map_delete_elem(&closing, &key);
    bpf_sock_ops_cb_flags_set(skops, 0); /* out of the map: no more callbacks */
}

SEC("sockops")
int sockmap_sockops(struct bpf_sock_ops *skops)
{
    switch (skops->op) {
    case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
    case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
        break;
    case BPF_SOCK_OPS_RTT_CB:
        release_when_drained(skops);
        return 1;
    default:
        return 1;
    }
    __u32 family = skops->family;
    if (family != AF_INET && family != AF_INET6)
        return 1;

    struct sock_key key = {};
    sockops_key(skops, family, &key);

    __u32 zero = 0;
    struct sockmap_config *cfg = bpf_map_lookup_elem(&config, &zero);
    if (cfg && (cfg->flags & CONFIG_PASSTHROUGH)) {
        count(COUNTER_SKIPPED_PAUSED, 1);
        return 1;
    }
    /* Only a peer on this host can be in the map: leave every other socket alone, so it keeps
     * plain TCP's receive path and takes no map entry. Within one network namespace the peer is
     * local when it is a loopback address or our own address. */
    if (!is_loopback(key.remote_ip) && !same_ip(key.remote_ip, key.local_ip)) {
        count(COUNTER_SKIPPED_NOT_LOCAL, 1);
        return 1;
    }
    /* Bytes that already crossed TCP (data in the SYN: TCP Fast Open) could be overtaken by
     * redirected ones, which the receiver reads first. */
    if (skops->bytes_received > 0 || skops->data_segs_out > 0) {
        count(COUNTER_SKIPPED_EARLY_DATA, 1);
        return 1;
    }
    if (!policy_allows(&key)) {
        count(COUNTER_SKIPPED_BY_POLICY, 1);
        return 1;
    }
    long inserted = bpf_sock_hash_update(skops, &sock_hash, &key, BPF_NOEXIST);
    if (inserted == 0) {
        count(COUNTER_SOCKETS_INSERTED, 1);
        /* ACKs of TCP data call us back: only sockets whose sends moved to TCP get any. */
        bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_RTT_CB_FLAG);
    } else
        count(COUNTER_INSERT_FAILED, 1); /* full map: this connection stays on TCP/IP */
    if (debug)
        bpf_printk("swift-sockmap: sockops insert port %u -> %u: %ld", key.local_port, key.remote_port, inserted);
    return 1;
}

SEC("sk_msg")
int sockmap_redirect(struct sk_msg_md *msg)
{
    __u32 family = msg->family;
    if (family != AF_INET && family != AF_INET6)
        return SK_PASS;

    struct bpf_sock *sk = msg->sk;
    if (!sk)
        return SK_PASS;
    if (bpf_sk_storage_get(&tcp_only, sk, 0, 0)) {
        count(COUNTER_KEPT_ON_TCP, 1);
        return SK_PASS;
    }
    /* Only an open sending side is redirected: after shutdown(SHUT_WR) the TCP path must refuse
     * the send (EPIPE), which a redirect would not. */
    __u32 state = sk->state;
    __u32 zero = 0;
    struct sockmap_config *cfg = bpf_map_lookup_elem(&config, &zero);
    if ((cfg && (cfg->flags & CONFIG_PASSTHROUGH)) ||
        (state != BPF_TCP_ESTABLISHED && state != BPF_TCP_CLOSE_WAIT)) {
        keep_on_tcp(sk);
        count(COUNTER_KEPT_ON_TCP, 1);
        return SK_PASS;
    }

    /* The peer's key: our remote end is its local end. */
    struct sock_key key = {};
    key.netns = bpf_get_netns_cookie(msg);
    SET_IP(key.local_ip, family, msg, remote_ip4, remote_ip6);
    SET_IP(key.remote_ip, family, msg, local_ip4, local_ip6);
    key.local_port = bpf_ntohl(msg->remote_port);
    key.remote_port = msg->local_port;

    __u32 size = msg->size;
    /* The peer is leaving the map: its redirect queue must not get anything new. */
    if (bpf_map_lookup_elem(&closing, &key)) {
        keep_on_tcp(sk);
        count(COUNTER_KEPT_ON_TCP, 1);
        return SK_PASS;
    }
    long verdict = bpf_msg_redirect_hash(msg, &sock_hash, &key, BPF_F_INGRESS);
    if (verdict == SK_PASS) {
        count(COUNTER_MESSAGES_REDIRECTED, 1);
        count(COUNTER_BYTES_REDIRECTED, size);
        /* Backpressure: this message still goes (the redirect is decided), the next ones take
         * TCP, whose flow control then holds the sender back. Bounded: limit + one message. */
        if (redirected_to_full_peer(msg)) {
            keep_on_tcp(sk);
            count(COUNTER_BACKPRESSURE_TO_TCP, 1);
            if (debug)
                bpf_printk("swift-sockmap: sk_msg to port %u: peer full, on TCP from now on", key.local_port);
        }
    } else {
        count(COUNTER_REDIRECT_MISSED, 1);
        keep_on_tcp(sk);
    }
    if (debug)
        bpf_printk("swift-sockmap: sk_msg %u bytes to port %u: %s", size, key.local_port,
                   verdict == SK_PASS ? "redirected" : "missed (TCP path)");
    return SK_PASS; /* a miss goes the ordinary TCP way; never fail the send */
}
