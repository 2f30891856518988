/* A third-party sockmap program written the usual way, against libbpf's own headers
 * (<bpf/bpf_helpers.h>, package libbpf-dev): sockops records established IPv4 sockets in a
 * SOCKHASH, sk_msg redirects each send to the peer socket. swift-sockmap must load it as
 * libbpf does. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct sock_key {
    __u32 sip4;
    __u32 dip4;
    __u32 sport;
    __u32 dport;
    __u8 family;
    __u8 pad[3];
};

struct {
    __uint(type, BPF_MAP_TYPE_SOCKHASH);
    __uint(max_entries, 65535);
    __type(key, struct sock_key);
    __type(value, int);
} sock_ops_map SEC(".maps");

const volatile int debug = 0;

static __attribute__((noinline)) void extract_key(struct bpf_sock_ops *ops, struct sock_key *key)
{
    key->sip4 = ops->local_ip4;
    key->dip4 = ops->remote_ip4;
    key->family = 1;
    key->sport = ops->local_port;                 /* host byte order */
    key->dport = bpf_ntohl(ops->remote_port);     /* network order in the high half */
}

SEC("sockops")
int bpf_sockops_v4(struct bpf_sock_ops *skops)
{
    struct sock_key key = {};

    switch (skops->op) {
    case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
    case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
        if (skops->family != 2 /* AF_INET */)
            break;
        extract_key(skops, &key);
        int ret = bpf_sock_hash_update(skops, &sock_ops_map, &key, BPF_NOEXIST);
        if (debug)
            bpf_printk("swift-sockmap: sockops %u -> %u: %d", key.sport, key.dport, ret);
        break;
    default:
        break;
    }
    return 0;
}

SEC("sk_msg")
int bpf_redir(struct sk_msg_md *msg)
{
    struct sock_key key = {};

    if (msg->family != 2 /* AF_INET */)
        return SK_PASS;
    key.sip4 = msg->remote_ip4;
    key.dip4 = msg->local_ip4;
    key.family = 1;
    key.dport = msg->local_port;
    key.sport = bpf_ntohl(msg->remote_port);
    long ret = bpf_msg_redirect_hash(msg, &sock_ops_map, &key, BPF_F_INGRESS);
    if (debug)
        bpf_printk("swift-sockmap: sk_msg %u -> %u: %ld", key.sport, key.dport, ret);
    return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
