/* A sockmap data path of the other kind: a sockops program puts established IPv4 sockets in a
 * SOCKMAP (slot = local port modulo its size), and an sk_skb stream_parser + stream_verdict pair
 * attached to that map passes every received message on. A second SOCKHASH the verdict program
 * does not use shows that the map is chosen by what the verdict program references. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} skb_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} unused_hash SEC(".maps");

SEC("sockops")
int skb_sockops(struct bpf_sock_ops *skops)
{
	__u32 slot;

	switch (skops->op) {
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		if (skops->family != 2 /* AF_INET */)
			break;
		slot = skops->local_port % 64;
		bpf_sock_map_update(skops, &skb_map, &slot, BPF_ANY);
		break;
	default:
		break;
	}
	return 0;
}

SEC("sk_skb/stream_parser")
int skb_parser(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("sk_skb/stream_verdict")
int skb_verdict(struct __sk_buff *skb)
{
	/* Every message passes on; the (never taken) redirect makes the program reference the map. */
	if (skb->len == 0)
		return bpf_sk_redirect_map(skb, &skb_map, 0, 0);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
