/* Several programs per section: two socket filters in "socket", two classifiers in "tc",
 * all sharing one BTF-defined map. */
#include "sockmap_helpers.h"

char _license[] SEC("license") = "GPL";

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 4);
} hits SEC(".maps");

static __always_inline void hit(__u32 index)
{
    __u64 *value = bpf_map_lookup_elem(&hits, &index);
    if (value)
        __sync_fetch_and_add(value, 1);
}

SEC("socket")
int socket_first(struct __sk_buff *skb)
{
    hit(0);
    return skb->len;
}

SEC("socket")
int socket_second(struct __sk_buff *skb)
{
    hit(1);
    return skb->len > 64 ? 64 : skb->len;
}

SEC("tc")
int tc_first(struct __sk_buff *skb)
{
    hit(2);
    return 0; /* TC_ACT_OK */
}

SEC("tc")
int tc_second(struct __sk_buff *skb)
{
    hit(3);
    return skb->protocol == bpf_htonl(0x86dd) >> 16 ? 2 /* TC_ACT_SHOT */ : 0;
}
