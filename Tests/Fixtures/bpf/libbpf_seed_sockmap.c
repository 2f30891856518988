/* The seed write-up's programs ("优化同主机内多个进程之间的网络包传输"), as written there against
 * libbpf's headers: a `sock_ops_map` SOCKHASH with a packed IPv4 key and an `int` value (so
 * user-space lookups of its values fail), a sockops program recording every established IPv4
 * socket of the cgroup, and an sk_msg program redirecting each send to the peer socket. It has
 * none of our counters, config or policy maps: `swift-sockmap load` must still accept it. */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

typedef __u8 uint8_t;
typedef __u16 uint16_t;
typedef __u32 uint32_t;

#define FORCE_READ(X) (*(volatile typeof(X) *)&X)

struct sock_key {
	uint32_t sip4;    /* source IP */
	uint32_t dip4;    /* destination IP */
	uint8_t  family;  /* protocol type */
	uint8_t  pad1;    /* this padding required for 64bit alignment */
	uint16_t pad2;    /* else ebpf kernel verifier rejects loading of the program */
	uint32_t pad3;
	uint32_t sport;   /* source port */
	uint32_t dport;   /* destination port */
} __attribute__((packed));

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__type(key, struct sock_key);
	__type(value, int);
	__uint(max_entries, 65535);
} sock_ops_map SEC(".maps");

static inline void extract_key4_from_ops(struct bpf_sock_ops *ops, struct sock_key *key)
{
	/* keep ip and port in network byte order */
	key->dip4 = ops->remote_ip4;
	key->sip4 = ops->local_ip4;
	key->family = 1;

	/* local_port is in host byte order, and remote_port is in network byte order */
	key->sport = (bpf_htonl(ops->local_port) >> 16);
	key->dport = FORCE_READ(ops->remote_port) >> 16;
}

static inline void bpf_sock_ops_ipv4(struct bpf_sock_ops *skops)
{
	struct sock_key key = {};
	int ret;

	extract_key4_from_ops(skops, &key);
	ret = bpf_sock_hash_update(skops, &sock_ops_map, &key, BPF_NOEXIST);
	if (ret != 0) {
		bpf_printk("sock_hash_update() failed, ret: %d\n", ret);
	}

	bpf_printk("sockmap: op %d, port %d --> %d\n", skops->op, skops->local_port, bpf_ntohl(skops->remote_port));
}

SEC("sockops")
int bpf_sockmap(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		if (skops->family == 2) { /* AF_INET */
			bpf_sock_ops_ipv4(skops);
		}
		break;
	default:
		break;
	}
	return 0;
}

static inline void extract_key4_from_msg(struct sk_msg_md *msg, struct sock_key *key)
{
	key->sip4 = msg->remote_ip4;
	key->dip4 = msg->local_ip4;
	key->family = 1;

	key->dport = (bpf_htonl(msg->local_port) >> 16);
	key->sport = FORCE_READ(msg->remote_port) >> 16;
}

SEC("sk_msg")
int bpf_redir(struct sk_msg_md *msg)
{
	struct sock_key key = {};

	extract_key4_from_msg(msg, &key);
	bpf_msg_redirect_hash(msg, &sock_ops_map, &key, BPF_F_INGRESS);
	bpf_printk("bpf_msg_redirect_hash successful!");
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
