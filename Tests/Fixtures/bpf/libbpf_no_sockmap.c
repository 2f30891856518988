/* A sockops and an sk_msg program with no SOCKHASH or SOCKMAP anywhere: nothing to attach the
 * verdict program to, so `load` refuses it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("sockops")
int lonely_sockops(struct bpf_sock_ops *skops)
{
	return 0;
}

SEC("sk_msg")
int lonely_verdict(struct sk_msg_md *msg)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&seen, &zero);

	if (count)
		__sync_fetch_and_add(count, 1);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
