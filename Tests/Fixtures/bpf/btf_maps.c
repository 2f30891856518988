/* BTF-defined maps with struct keys and values (__type), several map types, and a
 * SOCKHASH keyed by a struct, as bpftool pretty-prints them once BTF is attached. */
#include "sockmap_helpers.h"

char _license[] SEC("license") = "GPL";

struct flow_key {
    __u32 addr;
    __u16 port;
    __u16 protocol;
};

struct flow_stats {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct flow_key);
    __type(value, struct flow_stats);
    __uint(max_entries, 256);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct flow_stats);
    __uint(max_entries, 2);
} totals SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __type(key, __u64);
    __type(value, __u32);
    __uint(max_entries, 64);
    __uint(map_flags, 0);
} recent SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_SOCKHASH);
    __type(key, struct flow_key);
    __type(value, __u64);
    __uint(max_entries, 32);
} sockets SEC(".maps");

SEC("socket")
int track_flows(struct __sk_buff *skb)
{
    struct flow_key key = { .addr = skb->ifindex, .port = (__u16)skb->hash, .protocol = (__u16)skb->protocol };
    struct flow_stats *stats = bpf_map_lookup_elem(&flows, &key);
    if (stats) {
        __sync_fetch_and_add(&stats->packets, 1);
        __sync_fetch_and_add(&stats->bytes, skb->len);
    } else {
        struct flow_stats fresh = { .packets = 1, .bytes = skb->len };
        bpf_map_update_elem(&flows, &key, &fresh, BPF_NOEXIST);
    }
    __u32 zero = 0;
    struct flow_stats *total = bpf_map_lookup_elem(&totals, &zero);
    if (total)
        total->packets += 1;
    __u64 hash = skb->hash;
    __u32 len = skb->len;
    bpf_map_update_elem(&recent, &hash, &len, BPF_ANY);
    return skb->len;
}

SEC("sk_msg")
int lookup_peer(struct sk_msg_md *msg)
{
    struct flow_key key = { .addr = msg->remote_ip4, .port = (__u16)msg->remote_port, .protocol = 6 };
    bpf_msg_redirect_hash(msg, &sockets, &key, BPF_F_INGRESS);
    return SK_PASS;
}
