/* swift-sockmap's data path.
 *
 * Pairing by proof. A connection is accelerated only when both of its sockets prove, in their
 * own handshake, that they are the two ends of it on this host; addresses are never matched, so
 * network namespaces, bridges and NAT (a published port) do not matter, and two namespaces that
 * reuse an address never get each other's bytes:
 * - connect(): toward a destination that can be on this host (loopback, the socket's own address,
 *   `local_nets`), the socket puts a random, single-use token in its SYN (a TCP experimental
 *   option, kind 254 with our ExID) and records token -> its cookie in `pending`;
 * - SYN-ACK of a listener of the cgroup: it finds the token in the SYN it answers, and puts a
 *   random echo of its own in the SYN-ACK (recorded with the token, so only it knows it);
 * - ESTABLISHED, connecting side: only with that echo in its SYN-ACK does it confirm the token,
 *   enter the SOCKHASH (keyed by its cookie), with no peer yet, and show the token again in the
 *   handshake's last ACK. A SYN-ACK without the echo (a listener outside the cgroup,
 *   or one that saw the token and tries it elsewhere) burns the token: the connection stays on
 *   TCP, both sides;
 * - ESTABLISHED, accepting side: it reads the token from that ACK, claims it if confirmed
 *   (compare-and-exchange: single use), enters the SOCKHASH with the connecting socket as its
 *   peer, and publishes its own cookie in the token's entry, where the connecting side reads it
 *   at its first send (then deletes the token).
 * What each socket knows (its cookie, peer, namespace and connection) lives in `sock_state`, keyed
 * by its cookie, from its connect() or pairing until it leaves the data path's care (its FIN, its
 * close, a release); the `sockmap_sockets` iterator reports it to user space.
 * sk_msg: on every sendmsg() of a socket in the map, the data goes straight to the peer's receive
 * queue (bpf_msg_redirect_hash with BPF_F_INGRESS, keyed by the peer's cookie). No peer, no
 * redirect: the send takes ordinary TCP. The program never fails a send (always SK_PASS). */
#include "sockmap_helpers.h"
#include "sockmap_kernel_types.h"
#include "sockmap_shared.h"

char _license[] SEC("license") = "GPL";

/* Trace switch, set at load time (`swift-sockmap load --set debug=1`, read with
 * `swift-sockmap trace`). It lives in frozen .rodata, so with debug == 0 the verifier proves the
 * trace branches dead and removes them: the hot path pays nothing. */
const volatile __u32 debug = 0;

/* Backpressure: a send is redirected only while the peer's unread bytes are within its limit.
 * - The soft limit: its SO_RCVBUF when the application set it (SOCK_RCVBUF_LOCK, exactly as TCP),
 *   else max(its SO_RCVBUF, backpressure_floor). The floor gives the redirect path some of the
 *   room a TCP sender's send buffer would have (`load --set backpressure_floor=N`).
 * - Above it, a reader that is making progress (it consumed bytes within the last
 *   backpressure_stall_ns) may be given up to backpressure_cap unread bytes: a healthy bulk
 *   reader is routinely several MiB behind its writer, more when both share a CPU. A locked
 *   SO_RCVBUF gets no such allowance.
 * Over the limit, the sending side takes a detour over TCP, whose flow control (EAGAIN, EPOLLOUT,
 * blocking, SO_SNDTIMEO) holds the writer back, and comes back to the fast path once the reader
 * has read every byte of the detour and its unread bytes are down to half the soft limit
 * (may_return). */
const volatile __u32 backpressure_floor = 2 << 20;
const volatile __u32 backpressure_cap = 16 << 20;
const volatile __u64 backpressure_stall_ns = 5000000;

/* A detour that has carried this many bytes without a return is made for good (0: never). */
const volatile __u32 detour_limit = 64 << 20;

/* 0: a detour is for good (the sending side stays on TCP and the connection leaves the map), as
 * before returns existed (`load --set backpressure_return=0`). */
const volatile __u32 backpressure_return = 1;

/* The minimum retransmission timeout of a connection in the map, in microseconds (0: the
 * kernel's, 200 ms). A detour starts with the receiver over its SO_RCVBUF (the redirected bytes
 * count), so it drops all but the first of the segments already in flight; both ends are on this
 * host, with an RTT of microseconds, so a short timeout recovers them in milliseconds instead of
 * 200. The kernel accepts 2 jiffies (8 ms at HZ=250) to 200 ms. */
const volatile __u32 detour_rto_min_us = 10000;

struct {
    __uint(type, BPF_MAP_TYPE_SOCKHASH);
    __type(key, __u64);   /* the socket's cookie */
    __type(value, __u64); /* 8 bytes: user-space lookups return the socket cookie */
    __uint(max_entries, 65536);
} sock_hash SEC(".maps");

/* Tokens sent in SYNs, until the connecting side has read its peer from its claimed token (at its
 * first send or callback after the claim), or gives it up (its FIN, a reset, leaving the map
 * unpaired). A token is claimed once (compare-and-exchange), and only within token_ttl_ns of the
 * last SYN that carried it. LRU: the token of a connection whose connecting side neither sends nor
 * closes stays until evicted; that side then finds no peer and sends over TCP. */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __type(key, __u64);
    __type(value, struct pending_token);
    __uint(max_entries, 65536);
} pending SEC(".maps");

/* How long a token may wait for its listener after its SYN was sent. A same-host handshake takes
 * microseconds; a SYN retransmission sends the token again and restarts the clock. */
const volatile __u64 token_ttl_ns = 3000000000ULL;

/* Addresses and prefixes that can be on this host (struct local_net_key), written by `load`. */
struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct local_net_key);
    __type(value, __u32);
    __uint(max_entries, 4096);
} local_nets SEC(".maps");

/* Per-socket state, changed only with the socket locked: by its sk_msg program (inside
 * sendmsg(), under lock_sock) or by its sock_ops callbacks (which the kernel runs with the socket
 * locked, or defers to the lock owner). The two never run at once for one socket, and only the
 * socket itself deletes its state, so a program's pointer to it stays the socket's own.
 * flags (SOCK_STATE_*):
 * - TCP_ONLY: its sends take the TCP path, for good. The receiver drains its redirect queue before
 *   its TCP receive queue, so redirecting again while TCP bytes may still be unread would deliver
 *   later bytes first.
 * - REDIRECTED: at least one of its sends was redirected.
 * - QUIET: TCP_ONLY, and no redirect of its is in flight any more (published in `closing`). */
struct sock_state {
    struct socket_record record; /* its cookie once in the map, its peer once known, its connection */
    __u64 token;     /* connecting side: the token its SYN carries, until the peer is read from it;
                      * accepting side (ACCEPTED): the token it claimed */
    __u64 peer_sk;   /* the peer's kernel socket, as the first redirect found it (read fault-safe only) */
    __u64 progress_ns; /* when a look last found that the peer had consumed bytes since the one before */
    __u32 flags;
    __u32 unchecked; /* bytes redirected since the last look at the peer; on a detour, the detour's bytes */
    __u32 room;      /* bytes that may go before they are read again: half the room left then */
    __u32 queued;    /* the peer's unread bytes at that look */
};

/* Keyed by the socket's cookie (never reused). A hash map rather than socket storage
 * (BPF_MAP_TYPE_SK_STORAGE): creating a socket's storage costs about three times an insert here,
 * on both sockets of every connection. A socket with state always has the STATE callback on, so
 * its state goes at its TCP_CLOSE at the latest (forget_socket): sockets that end by a timeout or
 * a reset they received included. Room for every socket of a full sock_hash and as many
 * connecting ones in their handshake (`pending`); when full, a new connection stays on TCP. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u64);
    __type(value, struct sock_state);
    __uint(max_entries, 131072);
    __uint(map_flags, BPF_F_NO_PREALLOC); /* memory as sockets come, not 20 MiB at load */
} sock_state SEC(".maps");

/* The state of the socket with this cookie; 0 when it has none. */
static __always_inline struct sock_state *state_by_cookie(__u64 cookie)
{
    return bpf_map_lookup_elem(&sock_state, &cookie);
}

/* A zeroed state for a socket that has none; 0 when `sock_state` is full. */
static __always_inline struct sock_state *new_state(__u64 cookie)
{
    struct sock_state fresh = {};
    if (bpf_map_update_elem(&sock_state, &cookie, &fresh, BPF_NOEXIST))
        return 0;
    return bpf_map_lookup_elem(&sock_state, &cookie);
}

/* DETOUR: its sends take TCP for now (backpressure); it returns when may_return() says so. */
enum { SOCK_STATE_TCP_ONLY = 1, SOCK_STATE_REDIRECTED = 2, SOCK_STATE_QUIET = 4, SOCK_STATE_DETOUR = 8 };

/* TOKEN_SHOWN: the connecting side has shown its token in the last ACK; it keeps it to read its
 * peer from the token's entry once claimed (peer_of). ACCEPTED: the accepting side; its token is
 * the one it claimed, kept to delete it if the connection is reset before the connecting side
 * has read it. FIN_SENT: the socket has sent its FIN (forget_closing ran). */
enum { SOCK_STATE_TOKEN_SHOWN = 16, SOCK_STATE_ACCEPTED = 32, SOCK_STATE_FIN_SENT = 64 };

/* Connections leaving the map, per socket (key: the socket's cookie; value: CLOSING_*, which
 * only grows). A socket's entry tells its peer what the socket does:
 * - LEAVING: its sends take TCP; the peer must stop redirecting into it (and follows it to TCP);
 * - QUIET: besides, none of its redirects is in flight: nothing more will ever be queued into
 *   the peer's redirect queue, so the peer may leave the map once that queue is empty;
 * - RELEASED: it has left the map.
 * A socket leaves the map when it is QUIET, its peer is QUIET (or it never had one), and its own
 * redirect queue is empty: no byte can be freed with it. LRU: an entry lost to eviction only
 * keeps a socket in the map (slower, never wrong). */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __type(key, __u64);
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

#define SOL_TCP 6
#define TCP_BPF_RTO_MIN 1004
#define TCP_BPF_SOCK_OPS_CB_FLAGS 1008

#define TCPHDR_FIN 0x01
#define TCPHDR_RST 0x04
#define TCPHDR_SYN 0x02
#define TCPHDR_ACK 0x10

static __always_inline void count(__u32 index, __u64 amount)
{
    __u64 *value = bpf_map_lookup_elem(&counters, &index);
    if (value)
        __sync_fetch_and_add(value, amount); /* per-CPU, but sock_ops may run in process and softirq context */
}

static __always_inline int paused(void)
{
    __u32 zero = 0;
    struct sockmap_config *cfg = bpf_map_lookup_elem(&config, &zero);
    return cfg && (cfg->flags & CONFIG_PASSTHROUGH);
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

/* The connection as seen from the socket of a sock_ops callback. */
static __always_inline void sockops_key(struct bpf_sock_ops *skops, __u32 family, struct sock_key *key)
{
    SET_IP(key->local_ip, family, skops, local_ip4, local_ip6);
    SET_IP(key->remote_ip, family, skops, remote_ip4, remote_ip6);
    key->local_port = skops->local_port;                 /* host byte order */
    key->remote_port = bpf_ntohl(skops->remote_port);    /* network order in the high half */
}

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

/* Whether the other end of `key` can be a socket of this host: loopback, our own address, or an
 * address in `local_nets`. Only then does a SYN carry a token (SYNs to other hosts stay exactly
 * what the kernel makes), and only from such a source is a token accepted. */
static __always_inline int peer_can_be_local(const struct sock_key *key)
{
    if (is_loopback(key->remote_ip) || same_ip(key->remote_ip, key->local_ip))
        return 1;
    struct local_net_key lookup = {.prefixlen = 128};
    lookup.ip[0] = key->remote_ip[0];
    lookup.ip[1] = key->remote_ip[1];
    lookup.ip[2] = key->remote_ip[2];
    lookup.ip[3] = key->remote_ip[3];
    return bpf_map_lookup_elem(&local_nets, &lookup) != 0;
}

/* Decided by each socket from its own view of the connection; a pair needs both to agree. */
static __always_inline int policy_allows(const struct sock_key *key)
{
    __u32 zero = 0;
    struct sockmap_config *cfg = bpf_map_lookup_elem(&config, &zero);
    __u32 mode = cfg ? cfg->policy_mode : POLICY_MODE_DENY;
    if (cfg && !(cfg->flags & CONFIG_HAS_POLICY))
        return mode != POLICY_MODE_ALLOW; /* an empty list: nothing matches */
    int matched = policy_matches(key->local_ip, key->local_port) ||
                  policy_matches(key->remote_ip, key->remote_port);
    return mode == POLICY_MODE_ALLOW ? matched : !matched;
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

/* The references to the socket's psock beyond its one map link (threads inside its sendmsg() or
 * recvmsg()). Returns -1 when it cannot tell (no psock, another map, a failed read). */
static __always_inline int psock_references(struct sock___sockmap *sk, int *references)
{
    struct sk_psock___sockmap *psock = 0;
    if (psock_of(sk, &psock) || !psock)
        return -1;
    int refs = 0;
    struct list_head___sockmap *next = 0, *prev = 0;
    if (bpf_probe_read_kernel(&refs, sizeof(refs), &psock->refcnt.refs.counter) ||
        bpf_probe_read_kernel(&next, sizeof(next), &psock->link.next) ||
        bpf_probe_read_kernel(&prev, sizeof(prev), &psock->link.prev))
        return -1;
    if (next != prev || next == &psock->link)
        return -1;
    *references = refs - 1;
    return 0;
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

/* Reads a CO-RE bitfield (or whole integer) member through a fault-safe read. */
#define READ_BITFIELD_PROBED(s, field)                                                              \
    ({                                                                                              \
        unsigned long long _value = 0;                                                             \
        bpf_probe_read_kernel(&_value, __builtin_preserve_field_info((s)->field, 1 /* byte size */), \
                              (const void *)(s) + __builtin_preserve_field_info((s)->field, 0));    \
        _value <<= __builtin_preserve_field_info((s)->field, 4 /* lshift */);                      \
        _value >>= __builtin_preserve_field_info((s)->field, 5 /* rshift */);                      \
        _value;                                                                                     \
    })

/* The peer's unread bytes (redirected and TCP alike) and its soft limit. `grown`: the part of
 * its SO_RCVBUF a detour can use without a drop, when the kernel has grown it past the floor;
 * else 0. Fault-safe reads; returns -1 when one fails. */
static __always_inline int read_receiver(struct sock___sockmap *peer, int *queued, int *soft, int *locked, int *grown)
{
    int rcvbuf = 0;
    if (bpf_probe_read_kernel(queued, sizeof(*queued), &peer->sk_backlog.rmem_alloc.counter) ||
        bpf_probe_read_kernel(&rcvbuf, sizeof(rcvbuf), &peer->sk_rcvbuf))
        return -1;
    *locked = (READ_BITFIELD_PROBED(peer, sk_userlocks) & SOCK_RCVBUF_LOCK___sockmap) != 0;
    if (*locked) {
        *soft = rcvbuf;
        *grown = 0;
        return 0;
    }
    int usable = rcvbuf < (int)backpressure_cap ? rcvbuf : (int)backpressure_cap;
    usable -= usable >> 2; /* a quarter for TCP's segments in flight when a detour starts */
    *grown = usable > (int)backpressure_floor ? usable : 0;
    *soft = *grown ? *grown : (int)backpressure_floor;
    return 0;
}

/* Before a redirect: whether `size` more bytes would take the peer over its limit. The peer is
 * read through the address the first redirect found (kept in the state: sk_msg programs cannot
 * take a socket from the map, for want of bpf_sk_release), with fault-safe reads; a socket that
 * has gone by then makes the redirect miss anyway. Read only once the bytes redirected since the
 * last look could matter: half the room it had then. Each look also tells whether the reader
 * consumed anything since the one before (it holds less than it held then plus what was
 * redirected since), which keeps its allowance above the soft limit. */
static __always_inline int peer_would_overflow(struct sock_state *state, __u32 size)
{
    struct sock___sockmap *peer = (void *)state->peer_sk;
    int queued = 0, soft = 0, locked = 0, grown = 0;
    if (!peer || read_receiver(peer, &queued, &soft, &locked, &grown))
        return 0; /* not known yet, or a failed read: look again at the next send */
    __u64 now = bpf_ktime_get_ns();
    if ((__u32)queued < state->queued + state->unchecked)
        state->progress_ns = now;
    int room = soft - queued;
    if (room < (int)size && !locked && !grown && now - state->progress_ns <= backpressure_stall_ns &&
        queued <= (int)backpressure_cap) {
        /* A reader in progress whose SO_RCVBUF the kernel has not grown yet: it may get up to the
         * cap. The detour that ends this drops TCP segments once (the receiver is over its
         * SO_RCVBUF), and the kernel then grows its SO_RCVBUF to what it holds (tcp_clamp_window):
         * later detours start below it, without a drop. Look again soon enough to see it stall. */
        room = (int)backpressure_cap - queued;
        if (room > soft)
            room = soft;
    }
    state->queued = queued;
    state->unchecked = 0;
    if (room < (int)size) {
        state->room = 0;
        return 1;
    }
    state->room = (__u32)room / 2;
    return 0;
}

/* After the first redirect: the peer's kernel socket, from the context's sk_redir (set by
 * bpf_msg_redirect_hash()), for the looks before later redirects. */
static __always_inline void learn_peer(struct sk_msg_md *msg, struct sock_state *state)
{
    struct sk_msg___sockmap *kernel_msg = (void *)msg;
    struct sock___sockmap *peer = 0;
    if (!bpf_probe_read_kernel(&peer, sizeof(peer), &kernel_msg->sk_redir))
        state->peer_sk = (__u64)peer;
}

/* Whether the peer's unread bytes, waiters and readers let a detoured sending side redirect
 * again without reordering a byte or stranding a reader. All of:
 * 1. Every byte it gave TCP has been read: the peer's copied_seq is its own write_seq. The peer
 *    reads its redirect queue before its TCP queue, so whatever was redirected before the detour
 *    has been read too: a redirected byte cannot overtake a TCP byte.
 * 2. The peer's unread bytes are down to half its limit (else it would detour again at once).
 * 3. No reader can be waiting inside tcp_recvmsg() for TCP bytes that would never come
 *    (MSG_WAITALL, SO_RCVLOWAT; redirected bytes do not end that wait): the peer has no
 *    SO_RCVLOWAT above 1; no thread holds its lock (one inside tcp_recvmsg() does, except while
 *    it waits) or waits for it; and every thread waiting on the socket holds a reference to its
 *    psock: tcp_bpf_recvmsg() waiting for either queue (tcp_msg_wait_data) and tcp_bpf_sendmsg()
 *    waiting for memory do, tcp_recvmsg()'s wait (sk_wait_data) does not. Epoll's entries are no
 *    threads (no task); a thread in poll() or select() counts as one without a reference (it only
 *    delays the return).
 * The peer is read through the address the last redirect found (fault-safe reads); if that socket
 * has gone, the redirect that follows misses and the send takes TCP for good. */
static __always_inline int may_return(struct sock___sockmap *self, struct sock_state *state)
{
    struct sock___sockmap *peer = (void *)state->peer_sk;
    if (!peer || !self)
        return 0;
    struct tcp_sock___sockmap *own = (void *)self, *theirs = (void *)peer;
    __u32 written = 0, copied = 1;
    if (bpf_probe_read_kernel(&written, sizeof(written), &own->write_seq) ||
        bpf_probe_read_kernel(&copied, sizeof(copied), &theirs->copied_seq) || written != copied)
        return 0;
    int queued = 0, soft = 0, locked = 0, grown = 0;
    if (read_receiver(peer, &queued, &soft, &locked, &grown) || queued > (int)((__u32)soft / 2))
        return 0; /* over half its soft limit */
    int room = soft - queued;
    int owned = 1, lowat = 2;
    struct list_head___sockmap *next = 0;
    if (bpf_probe_read_kernel(&owned, sizeof(owned), &peer->sk_lock.owned) || owned ||
        bpf_probe_read_kernel(&lowat, sizeof(lowat), &peer->sk_rcvlowat) || lowat > 1 ||
        bpf_probe_read_kernel(&next, sizeof(next), &peer->sk_lock.wq.head.next) || next != &peer->sk_lock.wq.head)
        return 0;
    struct socket_wq___sockmap *wq = 0;
    if (bpf_probe_read_kernel(&wq, sizeof(wq), &peer->sk_wq) || !wq)
        return 0;
    struct list_head___sockmap *head = &wq->wait.head, *position = 0;
    if (bpf_probe_read_kernel(&position, sizeof(position), &head->next))
        return 0;
    int sleepers = 0;
    __u32 entry_offset = __builtin_preserve_field_info(((struct wait_queue_entry___sockmap *)0)->entry, 0);
#pragma unroll
    for (int i = 0; i < 4; i++) {
        if (position == head)
            break;
        struct wait_queue_entry___sockmap *entry = (void *)position - entry_offset;
        void *task = 0;
        if (bpf_probe_read_kernel(&task, sizeof(task), &entry->private) ||
            bpf_probe_read_kernel(&position, sizeof(position), &position->next))
            return 0;
        sleepers += task != 0;
    }
    if (position != head)
        return 0; /* more waiters than looked at */
    if (sleepers) {
        /* Only readers waiting for either queue (tcp_bpf_recvmsg) and senders hold a psock
         * reference while they wait; a reader inside tcp_recvmsg() does not. */
        int references = 0;
        if (psock_references(peer, &references) || references < sleepers)
            return 0;
    }
    state->unchecked = 0;
    state->queued = queued;
    state->room = (__u32)room / 2;
    return 1;
}

/* Records in `closing` that a socket has reached `state` (states only grow). */
static __always_inline void publish(__u64 cookie, __u64 state)
{
    __u64 *current = bpf_map_lookup_elem(&closing, &cookie);
    if (current && *current >= state)
        return;
    bpf_map_update_elem(&closing, &cookie, &state, BPF_ANY);
}

/* The socket's peer: in its state, else (the connecting side) from its token's entry once the
 * accepting side has claimed the token and entered the map; then the peer stays in the state and
 * the token goes. A token whose entry is gone (its claim failed, or eviction) never pairs. 0 while
 * unpaired. */
static __always_inline __u64 peer_of(struct sock_state *state)
{
    if (state->record.peer)
        return state->record.peer;
    __u64 token = state->token;
    if (!token || !(state->flags & SOCK_STATE_TOKEN_SHOWN))
        return 0;
    struct pending_token *entry = bpf_map_lookup_elem(&pending, &token);
    __u64 peer = entry ? __sync_fetch_and_add(&entry->peer, 0) : 0; /* ordered before the check below */
    if (entry && entry->cookie == state->record.cookie) {
        if (!peer || (peer & PEER_CLAIM_BIT))
            return 0; /* not claimed yet, or the accepting side is entering the map */
        bpf_map_delete_elem(&pending, &token);
    } else
        peer = 0; /* gone, or evicted and the entry handed to another token: never paired */
    state->record.peer = peer;
    state->token = 0;
    return peer;
}

/* A kept token goes: the connecting side's when it ends before reading its peer (a late claim then
 * finds no token), the accepting side's when the connection is reset. */
static __always_inline void drop_token(struct sock_state *state)
{
    __u64 token = state->token;
    if (!token)
        return;
    state->token = 0;
    bpf_map_delete_elem(&pending, &token);
}

/* The connecting side leaves the map unpaired (its sends went to TCP before the accepting side
 * claimed its token): it marks its token withdrawn, so a claim from now on fails, and lets it go.
 * Returns 0 when an accepting side has claimed it meanwhile: the socket then waits for that side's
 * cookie (peer_of, at its next callback) and follows the usual release. */
static __always_inline int withdraw_token(struct sock_state *state)
{
    __u64 token = state->token;
    if (!token || (state->flags & SOCK_STATE_ACCEPTED))
        return 1;
    struct pending_token *entry = bpf_map_lookup_elem(&pending, &token);
    if (entry && entry->cookie == state->record.cookie &&
        __sync_val_compare_and_swap(&entry->peer, 0, PEER_WITHDRAWN) != 0)
        return 0;
    drop_token(state);
    return 1;
}

/* A socket on TCP for good: quiet when it never redirected, or when no redirect of its is in
 * flight (`own`: see sends_idle). The caller holds the socket's lock and has no redirect of its
 * own pending. Publishes QUIET, or LEAVING so the peer stops redirecting into it meanwhile. */
static __always_inline void settle(struct sock_state *state, struct sock___sockmap *kernel_sk, int own)
{
    __u32 flags = state->flags | SOCK_STATE_TCP_ONLY;
    if (!(flags & SOCK_STATE_QUIET) && (!(flags & SOCK_STATE_REDIRECTED) || sends_idle(kernel_sk, own)))
        flags |= SOCK_STATE_QUIET;
    state->flags = flags;
    publish(state->record.cookie, (flags & SOCK_STATE_QUIET) ? CLOSING_QUIET : CLOSING_LEAVING);
}

/* Callbacks of a socket in the map: its TCP segments (HDR_OPT_LEN: the handshake's last ACK, TCP
 * data, its FIN), the ACKs of its TCP data (RTT) and its close (STATE: every socket with state
 * has it, see forget_socket). */
#define IN_MAP_CB_FLAGS (BPF_SOCK_OPS_RTT_CB_FLAG | BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG | BPF_SOCK_OPS_STATE_CB_FLAG)

/* The socket leaves the data path's care: no more callbacks, and its state goes. Every socket
 * with state comes here once: when it leaves the map, gives up pairing or sends a reset, or at its
 * TCP_CLOSE (the STATE callback, which stays on after its FIN), whichever is first. The caller
 * must not use its state pointer after this. */
static __always_inline void forget_socket(struct bpf_sock_ops *skops)
{
    __u64 cookie = bpf_get_socket_cookie(skops);
    bpf_map_delete_elem(&sock_state, &cookie);
    bpf_sock_ops_cb_flags_set(skops, 0);
}

/* Moves a connection that has a side on TCP out of the map, both sockets, without freeing a byte
 * (the kernel frees a socket's redirect queue when it leaves its last map). Runs in the sock_ops
 * callbacks of every socket in the map: RTT (an ACK of its TCP data arrived) and HDR_OPT_LEN (it
 * transmits a segment, data or ACK), which only sockets with TCP traffic get: sockets that
 * redirect pay nothing. For this socket:
 * 1. if its peer is leaving, it follows to TCP (order-safe: the receiver reads its redirect
 *    queue first);
 * 2. it publishes LEAVING, or QUIET once none of its redirects can be in flight (settle);
 * 3. when its peer is QUIET (nothing more can be queued into this socket's redirect queue), or it
 *    has none, and that queue is empty, it deletes itself from the SOCKHASH and turns its
 *    callbacks off. The kernel then restores its TCP protocol callbacks: plain TCP speed. */
static __always_inline void release_when_drained(struct bpf_sock_ops *skops, struct sock_state *state)
{
    struct bpf_sock *sk = skops->sk;
    if (!sk)
        return;
    __u64 peer = peer_of(state);
    if (!(state->flags & SOCK_STATE_TCP_ONLY) && (!peer || !bpf_map_lookup_elem(&closing, &peer)))
        return; /* nothing is leaving */
    struct sock___sockmap *kernel_sk = bpf_skc_to_tcp_sock(sk);
    if (!kernel_sk)
        return;
    settle(state, kernel_sk, 1);
    if (!(state->flags & SOCK_STATE_QUIET))
        return;
    /* Re-read after publishing: an accepting socket that pairs with this one from now on sees
     * it leaving and never redirects into it. */
    peer = peer_of(state);
    int peer_released = 1; /* no peer: nobody can redirect into this socket */
    if (peer) {
        __u64 *peer_state = bpf_map_lookup_elem(&closing, &peer);
        if (!peer_state || *peer_state < CLOSING_QUIET)
            return;
        peer_released = *peer_state == CLOSING_RELEASED;
    } else if (!withdraw_token(state))
        return; /* the accepting side is pairing with it right now */
    if (!redirect_queue_empty(kernel_sk))
        return;
    __u64 cookie = state->record.cookie;
    if (bpf_map_delete_elem(&sock_hash, &cookie) == 0)
        count(COUNTER_SOCKETS_RELEASED, 1);
    if (peer_released) {
        bpf_map_delete_elem(&closing, &cookie);
        if (peer)
            bpf_map_delete_elem(&closing, &peer);
    } else
        publish(cookie, CLOSING_RELEASED);
    forget_socket(skops); /* out of the map: no more callbacks */
}

/* A socket of the map sends its FIN: it is closing (or shutting its sending side). The `closing`
 * entry of a peer that has left the map goes (only this socket read it), and so does a token the
 * connecting side still keeps; the kernel takes the socket out of the SOCKHASH when it closes. A
 * reset takes both sockets' entries at once (forget_connection), and so does a TCP_CLOSE without a
 * FIN (on_close). `closing` is LRU for what neither reaches (a socket that resets after its FIN
 * leaves its entries there). Returns whether its peer is leaving the map (has a `closing` entry). */
static __always_inline int forget_closing(struct sock_state *state)
{
    __u64 peer = peer_of(state); /* read before the token goes */
    if (!(state->flags & SOCK_STATE_ACCEPTED))
        drop_token(state); /* the accepting side's FIN leaves it: the connecting side may still send */
    __u64 *peer_state = peer ? bpf_map_lookup_elem(&closing, &peer) : 0;
    if (!peer_state)
        return 0;
    if (*peer_state == CLOSING_RELEASED)
        bpf_map_delete_elem(&closing, &peer);
    return 1;
}

/* A socket of the map resets the connection (SO_LINGER 0, closed with unread bytes, aborted) or
 * reaches TCP_CLOSE without a FIN (on_close: the kernel sets TCP_CLOSE before it sends a reset of
 * its own; a reset received; a timeout): the connection ends for both sockets at once. Neither
 * sends anything again, so both sockets' `closing` entries go now, with a token the connecting side
 * still keeps; the kernel takes both sockets out of the SOCKHASH as they close. Without this, every
 * connection closed by a reset left its entries in the LRU maps until evicted. */
static __always_inline void forget_connection(struct sock_state *state)
{
    __u64 peer = peer_of(state);
    drop_token(state);
    __u64 cookie = state->record.cookie;
    if (state->flags & SOCK_STATE_TCP_ONLY) /* only such a socket publishes a `closing` entry */
        bpf_map_delete_elem(&closing, &cookie);
    /* Looked up first (no lock): the peer usually has none. */
    if (peer && bpf_map_lookup_elem(&closing, &peer))
        bpf_map_delete_elem(&closing, &peer);
}

/* listen(): call us back for the SYN-ACKs this listener sends (answer_token). Accepted sockets
 * inherit the flag; passive_established sets theirs. */
static __always_inline void answer_syns(struct bpf_sock_ops *skops)
{
    bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
}

/* Whether data crossed TCP before ESTABLISHED (TCP Fast Open): redirected bytes could overtake it. */
static __always_inline int data_before_established(struct bpf_sock_ops *skops)
{
    return skops->bytes_received > 0 || skops->data_segs_out > 0;
}

/* 64 random bits (bpf_get_prandom_u32 twice). */
static __always_inline __u64 random64(void)
{
    return ((__u64)bpf_get_prandom_u32() << 32) | bpf_get_prandom_u32();
}

/* connect(): toward a destination that can be on this host, a token for the SYN, and a fresh state.
 * A socket can connect again after a disconnect (connect() with AF_UNSPEC) or a failed connect;
 * nothing of the first attempt (TCP for good, the old peer, its kernel socket, a detour, an unused
 * token) may carry over: its state went at that TCP_CLOSE, and what is left under its cookie goes
 * here. */
static __always_inline void offer_token(struct bpf_sock_ops *skops, __u32 family)
{
    __u64 cookie = bpf_get_socket_cookie(skops);
    /* A socket keeps its cookie: a `closing` entry left by the first connection (it is kept after
     * a release until the peer's) would tell a new peer that this socket is leaving. Looked up
     * first (no lock): almost every socket connects once. */
    if (bpf_map_lookup_elem(&closing, &cookie))
        bpf_map_delete_elem(&closing, &cookie);
    struct sock_state *previous = state_by_cookie(cookie);
    if (previous) {
        /* Defensive: the state goes at TCP_CLOSE, which a disconnect or a failed connect passes. */
        __u64 stale = previous->token;
        if (stale)
            bpf_map_delete_elem(&pending, &stale);
        bpf_map_delete_elem(&sock_state, &cookie);
    }
    if (paused()) {
        count(COUNTER_SKIPPED_PAUSED, 1);
        return;
    }
    struct sock_key key = {};
    sockops_key(skops, family, &key);
    if (!peer_can_be_local(&key)) {
        count(COUNTER_SKIPPED_NOT_LOCAL, 1);
        return;
    }
    if (!policy_allows(&key)) {
        count(COUNTER_SKIPPED_BY_POLICY, 1);
        return;
    }
    struct sock_state *state = new_state(cookie);
    if (!state) {
        count(COUNTER_INSERT_FAILED, 1); /* `sock_state` full: this connection stays on TCP/IP */
        return;
    }
    __u64 token = random64();
    if (!token)
        token = 1; /* 0 means "no token" */
    struct pending_token entry = {.cookie = cookie, .sent_ns = bpf_ktime_get_ns()};
    if (bpf_map_update_elem(&pending, &token, &entry, BPF_NOEXIST)) {
        bpf_map_delete_elem(&sock_state, &cookie);
        return;
    }
    state->token = token;
    /* STATE: a connect that fails (refused, timed out) ends at TCP_CLOSE, where the state goes. */
    bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG | BPF_SOCK_OPS_STATE_CB_FLAG);
}

/* The pairing option as it stands in the header (SYN, SYN-ACK, the last ACK). */
struct pair_option {
    __u8 kind;
    __u8 len;
    __u8 exid[2];
    __u8 token[8];
};

/* Reads our option from the packet at hand (the SYN being answered when `syn`), into *value.
 * 0 when found. */
static __always_inline int read_option(struct bpf_sock_ops *skops, int syn, __u64 *value)
{
    struct pair_option option = {.kind = PAIR_OPTION_KIND, .len = 4,
                                 .exid = {PAIR_OPTION_EXID >> 8, PAIR_OPTION_EXID & 0xff}};
    long found = bpf_load_hdr_opt(skops, &option, sizeof(option), syn ? BPF_LOAD_HDR_OPT_TCP_SYN : 0);
    if (found != PAIR_OPTION_LEN || option.len != PAIR_OPTION_LEN)
        return -1;
    __builtin_memcpy(value, option.token, sizeof(*value));
    return 0;
}

/* Writes our option with `value` into the segment being built (WRITE_HDR_OPT). */
static __always_inline long write_option(struct bpf_sock_ops *skops, __u64 value)
{
    struct pair_option option = {.kind = PAIR_OPTION_KIND, .len = PAIR_OPTION_LEN,
                                 .exid = {PAIR_OPTION_EXID >> 8, PAIR_OPTION_EXID & 0xff}};
    __builtin_memcpy(option.token, &value, sizeof(value));
    return bpf_store_hdr_opt(skops, &option, sizeof(option), 0);
}

/* The socket's state, or 0 when it has none (it offered no token and is in no map). */
static __always_inline struct sock_state *state_of(struct bpf_sock_ops *skops)
{
    return state_by_cookie(bpf_get_socket_cookie(skops));
}

/* A SYN of a socket with a token: room for the option (HDR_OPT_LEN) or the option (WRITE_HDR_OPT).
 * A SYN without room gives the token up: that connection stays on TCP. */
static __always_inline void write_token(struct bpf_sock_ops *skops, int reserve)
{
    struct sock_state *state = state_of(skops);
    if (!state || !state->token)
        return;
    __u64 token = state->token;
    if (reserve ? bpf_reserve_hdr_opt(skops, PAIR_OPTION_LEN, 0) : write_option(skops, token)) {
        count(COUNTER_NO_OPTION_ROOM, 1);
        bpf_map_delete_elem(&pending, &token);
        state->token = 0;
        return;
    }
    if (reserve)
        return;
    struct pending_token *entry = bpf_map_lookup_elem(&pending, &token);
    if (entry)
        entry->sent_ns = bpf_ktime_get_ns(); /* a retransmitted SYN restarts the clock */
    count(COUNTER_TOKENS_OFFERED, 1);
    if (debug)
        bpf_printk("swift-sockmap: token in SYN from port %u", skops->local_port);
}

/* Enters a socket into the SOCKHASH and records it in its state; 0 on success. */
static __always_inline int enter_map(struct bpf_sock_ops *skops, struct sock_state *state, __u64 cookie, __u64 peer,
                                     const struct sock_key *key)
{
    if (bpf_sock_hash_update(skops, &sock_hash, &cookie, BPF_NOEXIST)) {
        count(COUNTER_INSERT_FAILED, 1); /* full map: this connection stays on TCP/IP */
        return -1;
    }
    state->record.peer = peer;
    state->record.netns = bpf_get_netns_cookie(skops);
    state->record.key = *key;
    state->record.cookie = cookie;
    count(COUNTER_SOCKETS_INSERTED, 1);
    if (debug)
        bpf_printk("swift-sockmap: sockops insert port %u -> %u, paired: %d", key->local_port, key->remote_port, peer != 0);
    /* TCP segments sent, ACKs received and the close call us back (release_when_drained,
     * on_segment): only sockets with TCP traffic get any after the handshake. */
    bpf_sock_ops_cb_flags_set(skops, IN_MAP_CB_FLAGS);
    if (detour_rto_min_us) {
        int rto_min = detour_rto_min_us;
        bpf_setsockopt(skops, SOL_TCP, TCP_BPF_RTO_MIN, &rto_min, sizeof(rto_min));
    }
    return 0;
}

/* A fingerprint of a connection as the listening side sees it: the request socket answering a
 * SYN and the socket accepted from it give the same one; another connection does not. */
static __always_inline __u64 fingerprint(struct bpf_sock_ops *skops, const struct sock_key *key)
{
    __u64 print = bpf_get_netns_cookie(skops) * 0x9E3779B97F4A7C15ULL;
    print ^= ((__u64)key->local_port << 48) | ((__u64)key->remote_port << 32) | key->remote_ip[3];
    print ^= ((__u64)key->remote_ip[0] << 32 | key->remote_ip[1]) * 0xC2B2AE3D27D4EB4FULL;
    print ^= ((__u64)key->remote_ip[2] << 32 | key->local_ip[3]) * 0x165667B19E3779F9ULL;
    return print | 1;
}

/* The SYN-ACK of a listener of the cgroup (skops->sk is the request socket): when the SYN it
 * answers carries a live token from a source that can be on this host, room for the answer
 * (HDR_OPT_LEN) or the answer itself (WRITE_HDR_OPT): a random echo recorded with the token. The
 * first connection to answer a token owns it (compare-and-exchange; a SYN-ACK sent again for the
 * same connection answers again); a token shown from elsewhere is burnt. */
static __always_inline void answer_token(struct bpf_sock_ops *skops, int reserve)
{
    __u64 token = 0;
    if (paused() || read_option(skops, 1, &token))
        return;
    struct pending_token *entry = bpf_map_lookup_elem(&pending, &token);
    if (!entry) {
        if (reserve)
            count(COUNTER_TOKEN_REJECTED, 1); /* forged, guessed, already used or expired */
        return;
    }
    struct sock_key key = {};
    sockops_key(skops, skops->family, &key);
    __u64 print = fingerprint(skops, &key);
    if (!reserve) {
        if (entry->answerer == print && entry->echo)
            write_option(skops, entry->echo);
        return;
    }
    if (!peer_can_be_local(&key) || bpf_ktime_get_ns() - entry->sent_ns > token_ttl_ns || entry->confirmed) {
        /* A source that cannot be on this host, too late, or replayed: burnt, unless an accepted
         * socket has claimed it already (its connecting side still has to read the peer). */
        if (!entry->peer)
            bpf_map_delete_elem(&pending, &token);
        count(COUNTER_TOKEN_REJECTED, 1);
        return;
    }
    __u64 echo = random64() | 1; /* never 0: 0 means "not answered" */
    if (__sync_val_compare_and_swap(&entry->echo, 0, echo) == 0)
        entry->answerer = print;
    else if (entry->answerer != print) {
        count(COUNTER_TOKEN_REJECTED, 1); /* another connection answered it first */
        return;
    }
    if (bpf_reserve_hdr_opt(skops, PAIR_OPTION_LEN, 0)) {
        count(COUNTER_NO_OPTION_ROOM, 1);
        bpf_map_delete_elem(&pending, &token);
    }
}

/* The connecting side is ESTABLISHED: with the echo its token earned in the SYN-ACK, it confirms
 * the token, enters the map (unpaired until the accepting side claims the token) and keeps the
 * token to show it in the handshake's last ACK. Otherwise the token is burnt and the connection
 * stays on TCP. */
static __always_inline void active_established(struct bpf_sock_ops *skops, __u32 family)
{
    struct sock_state *state = state_of(skops);
    if (!state || !state->token) {
        forget_socket(skops);
        return;
    }
    __u64 token = state->token;
    struct pending_token *entry = bpf_map_lookup_elem(&pending, &token);
    __u64 echo = 0;
    __u32 counter = COUNTER_MAX;
    if (data_before_established(skops))
        counter = COUNTER_SKIPPED_EARLY_DATA;
    else if (!entry || read_option(skops, 0, &echo) || echo != entry->echo)
        counter = COUNTER_UNANSWERED; /* no listener of the cgroup answered this SYN */
    else if (paused())
        counter = COUNTER_SKIPPED_PAUSED;
    if (counter == COUNTER_MAX && entry) {
        struct sock_key key = {};
        sockops_key(skops, family, &key);
        if (enter_map(skops, state, bpf_get_socket_cookie(skops), 0, &key) == 0) {
            entry->confirmed = 1;
            return; /* the token goes out once more, in the last ACK (show_token) */
        }
    } else
        count(counter, 1);
    bpf_map_delete_elem(&pending, &token);
    forget_socket(skops);
}

/* The connecting side's first segment after ESTABLISHED (the handshake's last ACK): room for the
 * token (HDR_OPT_LEN), then the token, for the accepting side to claim. Once only: the socket keeps
 * the token to read its peer from it (peer_of). */
static __always_inline void show_token(struct bpf_sock_ops *skops, struct sock_state *state, int reserve)
{
    if (reserve) {
        if (bpf_reserve_hdr_opt(skops, PAIR_OPTION_LEN, 0)) {
            count(COUNTER_NO_OPTION_ROOM, 1);
            drop_token(state); /* the accepting side finds no token: both stay on TCP */
        }
        return;
    }
    write_option(skops, state->token);
    state->flags |= SOCK_STATE_TOKEN_SHOWN;
}

/* A segment of a socket in the map: the token in the handshake's last ACK, its entries gone when
 * it sends its FIN or a reset, and the release of a connection with a side on TCP. */
static __always_inline void on_segment(struct bpf_sock_ops *skops, int reserve)
{
    struct sock_state *state = state_of(skops);
    if (!state || !state->record.cookie)
        return; /* not in the map */
    if (state->token && !(state->flags & (SOCK_STATE_TOKEN_SHOWN | SOCK_STATE_ACCEPTED)))
        show_token(skops, state, reserve);
    /* Once per segment; no flags: no segment, the MSS calculation (tcp_current_mss), which
     * needs only the token's room. */
    if (!reserve || !skops->skb_tcp_flags)
        return;
    if (skops->skb_tcp_flags & TCPHDR_RST) {
        forget_connection(state);
        forget_socket(skops);
        return;
    }
    if (skops->skb_tcp_flags & TCPHDR_FIN) {
        /* After its FIN the socket sends nothing more, so it needs no more callbacks but the
         * STATE one (its state, with its record for `dump-map` and `detach`'s sweep, goes at its
         * TCP_CLOSE): its peer may still redirect into it (it can still read), and the kernel takes
         * it out of the map when it closes. A socket on its way out of the map, or whose peer is,
         * keeps them all. */
        int peer_leaving = forget_closing(state);
        state->flags |= SOCK_STATE_FIN_SENT;
        if (!(state->flags & SOCK_STATE_TCP_ONLY) && !peer_leaving) {
            bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_STATE_CB_FLAG);
            return;
        }
    }
    release_when_drained(skops, state);
}

/* The accepting side is ESTABLISHED: it claims the token of the handshake's last ACK, confirmed
 * by the connecting side and answered for this very connection by its listener, and pairs with
 * that socket. Every doubt leaves the connection on TCP. Returns whether it entered the map. */
static __always_inline int pair_accepted(struct bpf_sock_ops *skops, __u32 family)
{
    struct bpf_sock *sk = skops->sk;
    if (!sk)
        return 0;
    if (paused()) {
        count(COUNTER_SKIPPED_PAUSED, 1);
        return 0;
    }
    __u64 token = 0;
    if (read_option(skops, 0, &token)) {
        count(COUNTER_NO_TOKEN, 1);
        return 0;
    }
    struct pending_token *entry = bpf_map_lookup_elem(&pending, &token);
    struct sock_key key = {};
    sockops_key(skops, family, &key);
    __u64 print = fingerprint(skops, &key);
    if (!entry || !entry->confirmed || entry->answerer != print) {
        count(COUNTER_TOKEN_REJECTED, 1); /* not this connection's answered, confirmed token */
        return 0;
    }
    /* The claim, with this socket's own mark: a token pairs once. Every failure after it deletes
     * the token, so the connecting side finds no peer (peer_of) and sends over TCP. */
    __u64 cookie = bpf_get_socket_cookie(skops);
    __u64 claim = cookie | PEER_CLAIM_BIT;
    if (__sync_val_compare_and_swap(&entry->peer, 0, claim) != 0) {
        count(COUNTER_TOKEN_REJECTED, 1);
        return 0;
    }
    /* `entry` is a pointer into an LRU map: an eviction may have handed it to another token since
     * the lookup. Read the connecting socket, then check the entry is still this connection's
     * (no other connection has this fingerprint, and a token never comes back). */
    __u64 active = entry->cookie;
    if (entry->answerer != print) {
        __sync_val_compare_and_swap(&entry->peer, claim, 0);
        count(COUNTER_TOKEN_REJECTED, 1);
        return 0;
    }
    __u32 counter = COUNTER_MAX;
    if (data_before_established(skops))
        counter = COUNTER_SKIPPED_EARLY_DATA;
    else if (!policy_allows(&key))
        counter = COUNTER_SKIPPED_BY_POLICY;
    else if (bpf_map_lookup_elem(&closing, &active))
        counter = COUNTER_PEER_GONE; /* the connecting side is leaving the map already */
    struct sock_state *state = 0;
    if (counter == COUNTER_MAX) {
        state = new_state(cookie);
        if (!state)
            count(COUNTER_INSERT_FAILED, 1); /* `sock_state` full */
        else if (enter_map(skops, state, cookie, active, &key)) {
            bpf_map_delete_elem(&sock_state, &cookie);
            state = 0;
        }
    } else
        count(counter, 1);
    if (!state) {
        bpf_map_delete_elem(&pending, &token);
        return 0;
    }
    /* Published once in the map (ordered after the insert): the connecting side reads it at its
     * first send. Only over this socket's own claim: an entry handed to another token meanwhile
     * is left alone. The token is kept for a reset, which ends the connection before that send. */
    __sync_val_compare_and_swap(&entry->peer, claim, cookie);
    state->token = token;
    state->flags |= SOCK_STATE_ACCEPTED;
    count(COUNTER_SOCKETS_PAIRED, 1);
    if (debug)
        bpf_printk("swift-sockmap: paired port %u with socket %llu", key.local_port, active);
    return 1;
}

/* An accepted socket inherits its listener's callbacks: only a paired one keeps any. */
static __always_inline void passive_established(struct bpf_sock_ops *skops, __u32 family)
{
    if (!pair_accepted(skops, family))
        bpf_sock_ops_cb_flags_set(skops, 0);
}

/* TCP_CLOSE of a socket with the STATE callback: a failed connect, a reset sent or received, a
 * timeout, or the end of a close after its FIN. Its state goes. A socket that has
 * not sent its FIN ends the connection as a reset does (forget_connection); the kernel sets
 * TCP_CLOSE before it sends a reset of its own, so this is where a reset's cleanup runs. */
static __always_inline void on_close(struct bpf_sock_ops *skops)
{
    struct sock_state *state = state_of(skops);
    if (!state)
        return;
    if (!(state->flags & SOCK_STATE_FIN_SENT))
        forget_connection(state);
    forget_socket(skops);
}

static __always_inline int handle_sockops(struct bpf_sock_ops *skops)
{
    __u32 family = skops->family;
    if (family != AF_INET && family != AF_INET6)
        return 1;
    switch (skops->op) {
    case BPF_SOCK_OPS_TCP_LISTEN_CB:
        answer_syns(skops);
        break;
    case BPF_SOCK_OPS_TCP_CONNECT_CB:
        offer_token(skops, family);
        break;
    case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
    case BPF_SOCK_OPS_WRITE_HDR_OPT_CB: {
        int reserve = skops->op == BPF_SOCK_OPS_HDR_OPT_LEN_CB;
        __u32 syn_ack = skops->skb_tcp_flags & (TCPHDR_SYN | TCPHDR_ACK);
        if (syn_ack == TCPHDR_SYN)
            write_token(skops, reserve);
        else if (syn_ack == (TCPHDR_SYN | TCPHDR_ACK))
            answer_token(skops, reserve);
        else
            on_segment(skops, reserve);
        break;
    }
    case BPF_SOCK_OPS_RTT_CB: {
        struct sock_state *state = state_of(skops);
        if (state && state->record.cookie)
            release_when_drained(skops, state);
        break;
    }
    case BPF_SOCK_OPS_STATE_CB:
        if (skops->args[1] == BPF_TCP_CLOSE)
            on_close(skops);
        break;
    case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
        active_established(skops, family);
        break;
    case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
        passive_established(skops, family);
        break;
    default:
        break;
    }
    return 1;
}

#ifdef SOCKMAP_PROFILE
#include "sockmap_profile.h"
#endif

SEC("sockops")
int sockmap_sockops(struct bpf_sock_ops *skops)
{
#ifdef SOCKMAP_PROFILE
    return PROFILED(handle_sockops, skops);
#else
    return handle_sockops(skops);
#endif
}

/* This send and every later one take the TCP path (`self`: the sending socket). Nothing of this
 * thread is in flight (this send is not redirected), so the socket may be quiet already. */
static __always_inline void move_to_tcp(struct sock___sockmap *self, struct sock_state *state)
{
    settle(state, self, 2);
}

SEC("sk_msg")
int sockmap_redirect(struct sk_msg_md *msg)
{
    struct bpf_sock *sk = msg->sk;
    if (!sk)
        return SK_PASS;
    /* The kernel socket (for the looks at its queues too) and its cookie (set: sock_ops read it
     * before the socket entered the map): sk_msg programs cannot call bpf_get_socket_cookie. */
    struct sock___sockmap *self = bpf_skc_to_tcp_sock(sk);
    __u64 cookie = self ? self->__sk_common.skc_cookie.counter : 0;
    struct sock_state *state = state_by_cookie(cookie);
    if (!state || !state->record.cookie) {
        count(COUNTER_KEPT_ON_TCP, 1); /* not entered by us: TCP, which never loses a byte */
        return SK_PASS;
    }
    __u32 flags = state->flags;
    if (flags & SOCK_STATE_TCP_ONLY) {
        if (!(flags & SOCK_STATE_QUIET))
            move_to_tcp(self, state); /* it may be quiet by now */
        count(COUNTER_KEPT_ON_TCP, 1);
        return SK_PASS;
    }
    /* Only an open sending side is redirected: after shutdown(SHUT_WR) the TCP path must refuse
     * the send (EPIPE), which a redirect would not. */
    __u32 sk_state = sk->state;
    if (paused() || (sk_state != BPF_TCP_ESTABLISHED && sk_state != BPF_TCP_CLOSE_WAIT)) {
        move_to_tcp(self, state);
        count(COUNTER_KEPT_ON_TCP, 1);
        return SK_PASS;
    }
    /* No peer (not paired yet, or never): TCP for good. A peer that leaves the map is not looked
     * for here: it stays in the map until this socket is quiet (release_when_drained), so a
     * redirect into it is never lost, and this socket follows it to TCP at its next callback. */
    __u64 peer = peer_of(state);
    __u32 size = msg->size;
    if (!peer) {
        count(COUNTER_REDIRECT_MISSED, 1);
        move_to_tcp(self, state);
        return SK_PASS;
    }
    if (flags & SOCK_STATE_DETOUR) {
        if (!may_return(self, state)) {
            count(COUNTER_BYTES_DETOURED, size);
            state->unchecked += size; /* bytes of this detour */
            if (detour_limit && state->unchecked > detour_limit) {
                /* A reader that never lets the writer come back (it always waits on its socket
                 * when the writer sends): the connection goes to TCP for good and leaves the map,
                 * at plain TCP speed instead of TCP through the sockmap's hooks. */
                state->flags = flags & ~SOCK_STATE_DETOUR;
                move_to_tcp(self, state);
            }
            return SK_PASS;
        }
        flags &= ~SOCK_STATE_DETOUR;
        count(COUNTER_RETURNED_TO_FAST_PATH, 1);
    } else if (state->unchecked + size > state->room && peer_would_overflow(state, size)) {
        /* Backpressure: this message and the next ones take a detour over TCP, whose flow
         * control then holds the writer back. */
        count(COUNTER_BACKPRESSURE_TO_TCP, 1);
        if (debug)
            bpf_printk("swift-sockmap: sk_msg to socket %llu: peer full, detour over TCP", peer);
        if (backpressure_return) {
            state->flags = flags | SOCK_STATE_DETOUR;
            count(COUNTER_BYTES_DETOURED, size);
            return SK_PASS;
        }
        state->flags = flags;
        move_to_tcp(self, state); /* for good: TCP_ONLY, LEAVING or QUIET */
        count(COUNTER_KEPT_ON_TCP, 1);
        return SK_PASS;
    }
    if (bpf_msg_redirect_hash(msg, &sock_hash, &peer, BPF_F_INGRESS) != SK_PASS) {
        state->flags = flags;
        count(COUNTER_REDIRECT_MISSED, 1);
        move_to_tcp(self, state);
        return SK_PASS; /* a miss goes the ordinary TCP way; never fail the send */
    }
    flags |= SOCK_STATE_REDIRECTED;
    count(COUNTER_MESSAGES_REDIRECTED, 1);
    count(COUNTER_BYTES_REDIRECTED, size);
    state->unchecked += size;
    if (!state->peer_sk)
        learn_peer(msg, state);
    state->flags = flags;
    if (debug)
        bpf_printk("swift-sockmap: sk_msg %u bytes to socket %llu: redirected", size, peer);
    return SK_PASS;
}

/* Reports every TCP socket of the iteration's network namespace that is in a sockmap: its
 * cookie, whether a redirect of its can be in flight, and whether its redirect queue is empty
 * (struct sweep_record). Idle connections get no sock_ops callback, so nothing in the data path
 * releases them; `detach`, once every send takes TCP (pass-through), runs this and deletes from
 * the SOCKHASH each socket whose queue is empty and whose peer it has seen idle: no byte can be
 * queued to it any more, so none is freed with it. The iterator holds no psock reference, so an
 * idle socket's count is its one map link (sends_idle with own = 1). */
/* The full TCP socket an "iter/tcp" program is called for; 0 after the last one and for request
 * and TIME_WAIT sockets. */
static __always_inline struct sock___sockmap *iterated_socket(struct bpf_iter__tcp___sockmap *ctx)
{
    struct sock_common___sockmap *common = ctx->sk_common;
    return common ? bpf_skc_to_tcp_sock(common) : 0;
}

SEC("iter/tcp")
int sockmap_sweep(struct bpf_iter__tcp___sockmap *ctx)
{
    struct sock___sockmap *sk = iterated_socket(ctx);
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

/* Reports every socket of the iteration's network namespace that this data path entered in the
 * SOCKHASH: the head of its state (struct socket_record: cookie, peer, namespace, connection), for
 * `dump-map` and `detach`'s sweep, which run it in each namespace the cgroup's sockets may live in.
 * Sockets with state that are not in the map yet (cookie 0) are skipped. */
SEC("iter/tcp")
int sockmap_sockets(struct bpf_iter__tcp___sockmap *ctx)
{
    struct sock___sockmap *sk = iterated_socket(ctx);
    if (!sk)
        return 0;
    __u64 cookie = 0;
    bpf_probe_read_kernel(&cookie, sizeof(cookie), &sk->__sk_common.skc_cookie.counter);
    struct sock_state *state = cookie ? state_by_cookie(cookie) : 0;
    if (!state || !state->record.cookie)
        return 0;
    struct socket_record record = state->record;
    bpf_seq_write(ctx->meta->seq, &record, sizeof(record));
    return 0;
}

/* Listeners of the cgroup opened before `load` never ran TCP_LISTEN_CB with our program attached,
 * so their SYN-ACKs would call nothing back and carry no answer: connections to them would stay on
 * TCP. This iterator gives every listening socket made in the accelerated cgroup or below it
 * (their cgroup ids in `adopt`, filled by `load`) the header-option callbacks (bpf_setsockopt
 * TCP_BPF_SOCK_OPS_CB_FLAGS, Linux 6.12), and reports each attempt (struct adopt_record). */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u64);
    __type(value, __u32);
    __uint(max_entries, 4096);
} adopt SEC(".maps");

#define TCP_LISTEN_STATE 10

SEC("iter/tcp")
int sockmap_adopt(struct bpf_iter__tcp___sockmap *ctx)
{
    struct sock_common___sockmap *common = ctx->sk_common;
    if (!common)
        return 0;
    unsigned char state = 0;
    if (bpf_probe_read_kernel(&state, sizeof(state), &common->skc_state) || state != TCP_LISTEN_STATE)
        return 0;
    struct sock___sockmap *sk = bpf_skc_to_tcp_sock(common);
    if (!sk)
        return 0;
    struct cgroup___sockmap *cgroup = 0;
    struct kernfs_node___sockmap *node = 0;
    struct adopt_record record = {};
    if (bpf_probe_read_kernel(&cgroup, sizeof(cgroup), &sk->sk_cgrp_data.cgroup) || !cgroup ||
        bpf_probe_read_kernel(&node, sizeof(node), &cgroup->kn) || !node ||
        bpf_probe_read_kernel(&record.cgroup, sizeof(record.cgroup), &node->id) ||
        !bpf_map_lookup_elem(&adopt, &record.cgroup))
        return 0;
    __u16 port = 0;
    bpf_probe_read_kernel(&port, sizeof(port), &sk->__sk_common.skc_num);
    record.port = port;
    int flags = 0;
    record.error = bpf_getsockopt(sk, SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS, &flags, sizeof(flags));
    if (!record.error) {
        flags |= BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG;
        record.error = bpf_setsockopt(sk, SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS, &flags, sizeof(flags));
    }
    bpf_seq_write(ctx->meta->seq, &record, sizeof(record));
    return 0;
}
