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

struct {
    __uint(type, BPF_MAP_TYPE_SOCKHASH);
    __type(key, struct sock_key);
    __type(value, __u64); /* 8 bytes: user-space lookups return the socket cookie */
    __uint(max_entries, 65536);
} sock_hash SEC(".maps");

/* Per-socket state (SOCK_STATE_* flags), changed only with the socket locked: by its sk_msg
 * program (inside sendmsg(), under lock_sock) or by its sock_ops callbacks (which the kernel runs
 * with the socket locked, or defers to the lock owner). The two never run at once for one socket.
 * - TCP_ONLY: its sends take the TCP path, for good. The receiver drains its redirect queue before
 *   its TCP receive queue, so redirecting again while TCP bytes may still be unread would deliver
 *   later bytes first.
 * - REDIRECTED: at least one of its sends was redirected.
 * - QUIET: TCP_ONLY, and no redirect of its is in flight any more (published in `closing`). */
struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, __u32);
} sock_state SEC(".maps");

enum { SOCK_STATE_TCP_ONLY = 1, SOCK_STATE_REDIRECTED = 2, SOCK_STATE_QUIET = 4 };

/* Connections leaving the map, per socket (key: the socket's own key; value: CLOSING_*, which
 * only grows). A socket's entry tells its peer what the socket does:
 * - LEAVING: its sends take TCP; the peer must stop redirecting into it (and follows it to TCP);
 * - QUIET: besides, none of its redirects is in flight: nothing more will ever be queued into
 *   the peer's redirect queue, so the peer may leave the map once that queue is empty;
 * - RELEASED: it has left the map.
 * A socket leaves the map when it is QUIET, its peer is QUIET, and its own redirect queue is
 * empty: no byte can be freed with it. LRU: an entry lost to eviction only keeps a socket in the
 * map (slower, never wrong); a stale entry for a reused 4-tuple is deleted when the new socket is
 * inserted. */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __type(key, struct sock_key);
    __type(value, __u64);
    __uint(max_entries, 65536);
} closing SEC(".maps");

enum { CLOSING_LEAVING = 1, CLOSING_QUIET = 2, CLOSING_RELEASED = 3 };

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

/* A socket's psock (its sk_user_data when tagged SK_USER_DATA_PSOCK). Returns 0 and sets *psock
 * (0: the socket has none, it is in no map), or -1 when the socket cannot be read. */
static __always_inline int psock_of(struct sock___sockmap *sk, struct sk_psock___sockmap **psock)
{
    __u64 data = 0;
    if (!sk || bpf_probe_read_kernel(&data, sizeof(data), &sk->sk_user_data))
        return -1;
    *psock = (data & SK_USER_DATA_PSOCK___sockmap) ? (void *)(data & ~SK_USER_DATA_FLAG_BITS___sockmap) : 0;
    return 0;
}

/* Whether no thread but the caller is inside the socket's sendmsg(), so none of its redirects is
 * in flight: tcp_bpf_sendmsg() holds a psock reference from before the verdict until the
 * redirected bytes are queued at the receiver (tcp_bpf_send_verdict() drops the socket lock in
 * between, which is why the lock alone does not tell). The psock's reference count is then its
 * map links (exactly one: ours) plus the caller's own (`own`: 1 from sock_ops, 2 from sk_msg,
 * which runs inside sendmsg()). A reader blocked in recvmsg() holds one too: that only delays
 * the answer. A socket without a psock has no redirect in flight (an in-flight sendmsg() would
 * hold it). */
static __always_inline int sends_idle(struct sock___sockmap *sk, int own)
{
    struct sk_psock___sockmap *psock = 0;
    if (psock_of(sk, &psock))
        return 0;
    if (!psock)
        return 1;
    int refs = 0;
    struct list_head___sockmap *next = 0, *prev = 0;
    if (bpf_probe_read_kernel(&refs, sizeof(refs), &psock->refcnt.refs.counter) ||
        bpf_probe_read_kernel(&next, sizeof(next), &psock->link.next) ||
        bpf_probe_read_kernel(&prev, sizeof(prev), &psock->link.prev))
        return 0;
    int one_link = next == prev && next != &psock->link;
    return one_link && refs == own;
}

/* Whether nothing redirected to the socket waits unread: its psock's redirect queue
 * (ingress_msg) is empty. A message stays on it until it is read in full. */
static __always_inline int redirect_queue_empty(struct sock___sockmap *sk)
{
    struct sk_psock___sockmap *psock = 0;
    if (psock_of(sk, &psock))
        return 0;
    if (!psock)
        return 1;
    struct list_head___sockmap *next = 0;
    if (bpf_probe_read_kernel(&next, sizeof(next), &psock->ingress_msg.next))
        return 0;
    return next == &psock->ingress_msg;
}

/* Records in `closing` that a socket has reached `state` (states only grow). */
static __always_inline void publish(const struct sock_key *key, __u64 state)
{
    __u64 *current = bpf_map_lookup_elem(&closing, key);
    if (current && *current >= state)
        return;
    bpf_map_update_elem(&closing, key, &state, BPF_ANY);
}

/* The same connection as seen from the other socket. */
static __always_inline void peer_key(const struct sock_key *key, struct sock_key *peer)
{
    peer->netns = key->netns;
    for (int i = 0; i < 4; i++) {
        peer->local_ip[i] = key->remote_ip[i];
        peer->remote_ip[i] = key->local_ip[i];
    }
    peer->local_port = key->remote_port;
    peer->remote_port = key->local_port;
}

/* A socket on TCP for good: quiet when it never redirected, or when no redirect of its is in
 * flight (`own`: see sends_idle). The caller holds the socket's lock and has no redirect of its
 * own pending. Publishes QUIET, or LEAVING so the peer stops redirecting into it meanwhile. */
static __always_inline void settle(__u32 *state, struct sock___sockmap *kernel_sk, int own, const struct sock_key *key)
{
    __u32 flags = *state | SOCK_STATE_TCP_ONLY;
    if (!(flags & SOCK_STATE_QUIET) && (!(flags & SOCK_STATE_REDIRECTED) || sends_idle(kernel_sk, own)))
        flags |= SOCK_STATE_QUIET;
    *state = flags;
    publish(key, (flags & SOCK_STATE_QUIET) ? CLOSING_QUIET : CLOSING_LEAVING);
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

/* Moves a connection that has a side on TCP out of the map, both sockets, without freeing a byte
 * (the kernel frees a socket's redirect queue when it leaves its last map). Runs in the sock_ops
 * callbacks of every inserted socket: RTT (an ACK of its TCP data arrived) and HDR_OPT_LEN (it
 * transmits a segment, data or ACK), which only sockets with TCP traffic get: sockets that
 * redirect pay nothing. For this socket:
 * 1. if its peer is leaving, it follows to TCP (order-safe: the receiver reads its redirect
 *    queue first);
 * 2. it publishes LEAVING, or QUIET once none of its redirects can be in flight (settle);
 * 3. when its peer is QUIET (nothing more can be queued into this socket's redirect queue) and
 *    that queue is empty, it deletes itself from the SOCKHASH and turns its callbacks off. The
 *    kernel then restores its TCP protocol callbacks: plain TCP speed. */
static __always_inline void release_when_drained(struct bpf_sock_ops *skops)
{
    struct bpf_sock *sk = skops->sk;
    if (!sk)
        return;
    __u32 family = skops->family;
    if (family != AF_INET && family != AF_INET6)
        return;
    struct sock_key key = {}, peer = {};
    sockops_key(skops, family, &key);
    peer_key(&key, &peer);

    __u32 *state = bpf_sk_storage_get(&sock_state, sk, 0, 0);
    if (!state || !(*state & SOCK_STATE_TCP_ONLY)) {
        if (!bpf_map_lookup_elem(&closing, &peer))
            return; /* nothing is leaving */
        state = bpf_sk_storage_get(&sock_state, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
        if (!state)
            return;
    }
    struct sock___sockmap *kernel_sk = bpf_skc_to_tcp_sock(sk);
    if (!kernel_sk)
        return;
    settle(state, kernel_sk, 1, &key);
    if (!(*state & SOCK_STATE_QUIET))
        return;
    __u64 *peer_state = bpf_map_lookup_elem(&closing, &peer);
    if (!peer_state || *peer_state < CLOSING_QUIET || !redirect_queue_empty(kernel_sk))
        return;
    if (bpf_map_delete_elem(&sock_hash, &key) == 0)
        count(COUNTER_SOCKETS_RELEASED, 1);
    if (*peer_state == CLOSING_RELEASED) {
        bpf_map_delete_elem(&closing, &peer);
        bpf_map_delete_elem(&closing, &key);
    } else
        publish(&key, CLOSING_RELEASED);
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
    case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
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
        bpf_map_delete_elem(&closing, &key); /* left by an earlier connection with this 4-tuple */
        /* TCP segments sent and ACKs received call us back (release_when_drained): only sockets
         * with TCP traffic get any. */
        bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_RTT_CB_FLAG | BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
    } else
        count(COUNTER_INSERT_FAILED, 1); /* full map: this connection stays on TCP/IP */
    if (debug)
        bpf_printk("swift-sockmap: sockops insert port %u -> %u: %ld", key.local_port, key.remote_port, inserted);
    return 1;
}

/* The sending socket's own key, from an sk_msg context. */
static __always_inline void msg_own_key(struct sk_msg_md *msg, __u32 family, struct sock_key *key)
{
    key->netns = bpf_get_netns_cookie(msg);
    SET_IP(key->local_ip, family, msg, local_ip4, local_ip6);
    SET_IP(key->remote_ip, family, msg, remote_ip4, remote_ip6);
    key->local_port = msg->local_port;
    key->remote_port = bpf_ntohl(msg->remote_port);
}

/* This send and every later one take the TCP path. Nothing of this thread is in flight (this
 * send is not redirected), so the socket may be quiet already. */
static __always_inline void move_to_tcp(struct sk_msg_md *msg, __u32 family, __u32 *state)
{
    struct sk_msg___sockmap *kernel_msg = (void *)msg;
    struct sock___sockmap *self = 0;
    bpf_probe_read_kernel(&self, sizeof(self), &kernel_msg->sk);
    struct sock_key key = {};
    msg_own_key(msg, family, &key);
    settle(state, self, 2, &key);
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
    __u32 *state = bpf_sk_storage_get(&sock_state, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
    if (!state) {
        count(COUNTER_KEPT_ON_TCP, 1); /* no memory for its state: TCP, which never loses a byte */
        return SK_PASS;
    }
    if (*state & SOCK_STATE_TCP_ONLY) {
        if (!(*state & SOCK_STATE_QUIET))
            move_to_tcp(msg, family, state); /* it may be quiet by now */
        count(COUNTER_KEPT_ON_TCP, 1);
        return SK_PASS;
    }
    /* Only an open sending side is redirected: after shutdown(SHUT_WR) the TCP path must refuse
     * the send (EPIPE), which a redirect would not. */
    __u32 sk_state = sk->state;
    __u32 zero = 0;
    struct sockmap_config *cfg = bpf_map_lookup_elem(&config, &zero);
    if ((cfg && (cfg->flags & CONFIG_PASSTHROUGH)) ||
        (sk_state != BPF_TCP_ESTABLISHED && sk_state != BPF_TCP_CLOSE_WAIT)) {
        move_to_tcp(msg, family, state);
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
        move_to_tcp(msg, family, state);
        count(COUNTER_KEPT_ON_TCP, 1);
        return SK_PASS;
    }
    long verdict = bpf_msg_redirect_hash(msg, &sock_hash, &key, BPF_F_INGRESS);
    if (verdict == SK_PASS) {
        *state |= SOCK_STATE_REDIRECTED;
        count(COUNTER_MESSAGES_REDIRECTED, 1);
        count(COUNTER_BYTES_REDIRECTED, size);
        /* Backpressure: this message still goes (the redirect is decided), the next ones take
         * TCP, whose flow control then holds the sender back. Bounded: limit + one message.
         * This message is in flight: the socket is LEAVING, not QUIET, until a later send or
         * callback sees no redirect of its in flight. */
        if (redirected_to_full_peer(msg)) {
            *state |= SOCK_STATE_TCP_ONLY;
            struct sock_key own = {};
            msg_own_key(msg, family, &own);
            publish(&own, CLOSING_LEAVING);
            count(COUNTER_BACKPRESSURE_TO_TCP, 1);
            if (debug)
                bpf_printk("swift-sockmap: sk_msg to port %u: peer full, on TCP from now on", key.local_port);
        }
    } else {
        count(COUNTER_REDIRECT_MISSED, 1);
        move_to_tcp(msg, family, state);
    }
    if (debug)
        bpf_printk("swift-sockmap: sk_msg %u bytes to port %u: %s", size, key.local_port,
                   verdict == SK_PASS ? "redirected" : "missed (TCP path)");
    return SK_PASS; /* a miss goes the ordinary TCP way; never fail the send */
}

/* Reports every TCP socket of the iteration's network namespace that is in a sockmap: its
 * cookie, whether a redirect of its can be in flight, and whether its redirect queue is empty
 * (struct sweep_record). Idle connections get no sock_ops callback, so nothing in the data path
 * releases them; `detach`, once every send takes TCP (pass-through), runs this and deletes from
 * the SOCKHASH each socket whose queue is empty and whose peer it has seen idle: no byte can be
 * queued to it any more, so none is freed with it. The iterator holds no psock reference, so an
 * idle socket's count is its one map link (sends_idle with own = 1). */
SEC("iter/tcp")
int sockmap_sweep(struct bpf_iter__tcp___sockmap *ctx)
{
    struct sock_common___sockmap *common = ctx->sk_common;
    if (!common)
        return 0;
    struct sock___sockmap *sk = bpf_skc_to_tcp_sock(common); /* full sockets only */
    if (!sk)
        return 0;
    struct sk_psock___sockmap *psock = 0;
    if (psock_of(sk, &psock) || !psock)
        return 0; /* in no sockmap */
    struct sweep_record record = {};
    if (bpf_probe_read_kernel(&record.cookie, sizeof(record.cookie), &sk->__sk_common.skc_cookie.counter) || !record.cookie)
        return 0; /* never looked up from user space: not one of the map's sockets being swept */
    if (sends_idle(sk, 1))
        record.flags |= SWEEP_SENDS_IDLE;
    if (redirect_queue_empty(sk))
        record.flags |= SWEEP_QUEUE_EMPTY;
    bpf_seq_write(ctx->meta->seq, &record, sizeof(record));
    return 0;
}
