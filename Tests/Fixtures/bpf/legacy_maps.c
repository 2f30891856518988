/* Legacy map definitions: `struct bpf_map_def` in the "maps" section (pre-BTF objects; libbpf
 * 1.0 and later refuse them, so bpftool cannot be the oracle here). */
#include "sockmap_helpers.h"

char _license[] SEC("license") = "GPL";

struct bpf_map_def {
    unsigned int type;
    unsigned int key_size;
    unsigned int value_size;
    unsigned int max_entries;
    unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_counts = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = sizeof(__u32),
    .value_size = sizeof(__u64),
    .max_entries = 4,
};

struct bpf_map_def SEC("maps") legacy_flows = {
    .type = BPF_MAP_TYPE_HASH,
    .key_size = sizeof(__u64),
    .value_size = 16,
    .max_entries = 128,
    .map_flags = BPF_F_NO_PREALLOC,
};

SEC("socket")
int legacy_prog(struct __sk_buff *skb)
{
    __u32 index = skb->len & 3;
    __u64 *count = bpf_map_lookup_elem(&legacy_counts, &index);
    if (count)
        *count += 1;
    __u64 flow = skb->hash;
    return bpf_map_lookup_elem(&legacy_flows, &flow) ? 0 : skb->len;
}
