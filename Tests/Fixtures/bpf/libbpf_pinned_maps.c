/* A map pinned by name (LIBBPF_PIN_BY_NAME), as libbpf objects share maps between loads and
 * between objects, next to one that is not: a socket filter counts packets into both. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} shared_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} private_counts SEC(".maps");

SEC("socket")
int count_shared(struct __sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *shared = bpf_map_lookup_elem(&shared_counts, &zero);
	__u64 *own = bpf_map_lookup_elem(&private_counts, &zero);

	if (shared)
		__sync_fetch_and_add(shared, 1);
	if (own)
		__sync_fetch_and_add(own, 1);
	return skb->len;
}
