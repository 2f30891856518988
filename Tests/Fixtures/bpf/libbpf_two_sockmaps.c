/* A data path whose sk_msg program references two SOCKHASHes (it redirects IPv4 sends through
 * one and the rest through the other): which map to attach to is ambiguous, so `load` refuses it
 * until `--map` names one. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} hash_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} hash_other SEC(".maps");

SEC("sockops")
int two_sockops(struct bpf_sock_ops *skops)
{
	__u32 port = skops->local_port;

	if (skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB || skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
		bpf_sock_hash_update(skops, skops->family == 2 ? (void *)&hash_v4 : (void *)&hash_other, &port, BPF_ANY);
	return 0;
}

SEC("sk_msg")
int two_redirect(struct sk_msg_md *msg)
{
	__u32 port = bpf_ntohl(msg->remote_port);

	if (msg->family == 2)
		bpf_msg_redirect_hash(msg, &hash_v4, &port, BPF_F_INGRESS);
	else
		bpf_msg_redirect_hash(msg, &hash_other, &port, BPF_F_INGRESS);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
