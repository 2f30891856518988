/* bpf-to-bpf calls: static and global subprograms in .text, a subprogram calling another
 * (appended depth first, as libbpf does), subprograms shared by programs of two sections,
 * and a subprogram using a map. */
#include "sockmap_helpers.h"

char _license[] SEC("license") = "GPL";

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 8);
} calls SEC(".maps");

static __attribute__((noinline)) int scale(int x)
{
    return x * 3 + 1;
}

static __attribute__((noinline)) void record(__u32 index)
{
    __u64 *value = bpf_map_lookup_elem(&calls, &index);
    if (value)
        __sync_fetch_and_add(value, 1);
}

static __attribute__((noinline)) int clamp(int x)
{
    record(1);
    return x > 1000 ? 1000 : scale(x);
}

/* A global function: the verifier checks it once, on its own, from its BTF prototype. */
__attribute__((noinline)) int global_mix(int a, int b)
{
    return scale(a) ^ b;
}

SEC("socket")
int calls_nested(struct __sk_buff *skb)
{
    record(0);
    return clamp(skb->len) + global_mix(skb->len, 5);
}

SEC("socket")
int calls_global(struct __sk_buff *skb)
{
    return global_mix(skb->protocol, 1) + scale(2);
}

SEC("tc")
int calls_from_tc(struct __sk_buff *skb)
{
    record(2);
    return scale(skb->len) > 100 ? 2 : 0;
}
