/* Intentionally rejected by the verifier: the map lookup's result is used without a NULL
 * check. The loader's error must quote the offending C line (needs .BTF.ext line_info). */
#include "sockmap_helpers.h"

char _license[] SEC("license") = "GPL";

struct {
    __uint(type, BPF_MAP_TYPE_HASH); /* an array lookup with a constant key is never NULL */
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 1);
} totals SEC(".maps");

SEC("socket")
int unchecked_lookup(struct __sk_buff *skb)
{
    __u32 key = 0;
    __u64 *total = bpf_map_lookup_elem(&totals, &key);
    *total += skb->len; /* BUG: total may be NULL */
    return 0;
}
