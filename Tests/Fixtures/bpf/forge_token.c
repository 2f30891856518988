/* A SYN forger for the pairing tests: a sock_ops program that puts swift-sockmap's pairing option
 * (kind 254, ExID 0x5AC5) with a token of the test's choosing (`forged_token`, set at load) in the
 * SYN of every connection made in the cgroup it is attached to. It stands for a host that shows a
 * guessed, made-up or replayed token: the listening side must refuse to pair with it. */
#include "sockmap_helpers.h"
#include "sockmap_shared.h"

char _license[] SEC("license") = "GPL";

const volatile __u64 forged_token = 0x0123456789abcdefULL;

#define TCPHDR_SYN 0x02
#define TCPHDR_ACK 0x10

struct pair_option {
    __u8 kind;
    __u8 len;
    __u8 exid[2];
    __u8 token[8];
};

SEC("sockops")
int forge_token(struct bpf_sock_ops *skops)
{
    switch (skops->op) {
    case BPF_SOCK_OPS_TCP_CONNECT_CB:
        bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
        break;
    case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
        if ((skops->skb_tcp_flags & (TCPHDR_SYN | TCPHDR_ACK)) == TCPHDR_SYN)
            bpf_reserve_hdr_opt(skops, PAIR_OPTION_LEN, 0);
        break;
    case BPF_SOCK_OPS_WRITE_HDR_OPT_CB:
        if ((skops->skb_tcp_flags & (TCPHDR_SYN | TCPHDR_ACK)) == TCPHDR_SYN) {
            struct pair_option option = {.kind = PAIR_OPTION_KIND, .len = PAIR_OPTION_LEN,
                                         .exid = {PAIR_OPTION_EXID >> 8, PAIR_OPTION_EXID & 0xff}};
            __u64 token = forged_token;
            __builtin_memcpy(option.token, &token, sizeof(token));
            bpf_store_hdr_opt(skops, &option, sizeof(option), 0);
        }
        break;
    case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
        bpf_sock_ops_cb_flags_set(skops, 0);
        break;
    }
    return 1;
}
