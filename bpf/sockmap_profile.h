/* SPDX-License-Identifier: GPL-2.0 */
/* A profiling build of redir.c's sock_ops program (`clang -DSOCKMAP_PROFILE`, made by
 * tools/profile-sockops.sh; never the shipped object): every run is timed and counted in the
 * per-CPU array `profile`, by callback, and for the header-option callbacks by the segment they
 * are for. What the connect workload pays per connection, callback by callback, comes from here
 * (docs/pairing.md, "Cost"). The clock reads and the array update add about 35 ns to each run. */
#ifndef SOCKMAP_PROFILE_H
#define SOCKMAP_PROFILE_H

struct profile_value {
    __u64 runs;
    __u64 ns;
};

/* Key: the callback (skops->op, below 20), or for HDR_OPT_LEN (20 + kind) and WRITE_HDR_OPT
 * (30 + kind) the segment: PROFILE_SEGMENT_*. */
enum {
    PROFILE_SEGMENT_SYN,
    PROFILE_SEGMENT_SYN_ACK,
    PROFILE_SEGMENT_FIN,
    PROFILE_SEGMENT_RESET,
    PROFILE_SEGMENT_NONE, /* no segment: the MSS calculation (tcp_current_mss) */
    PROFILE_SEGMENT_OTHER,
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct profile_value);
    __uint(max_entries, 40);
} profile SEC(".maps");

static __always_inline __u32 profile_key(__u32 op, __u32 flags)
{
    if (op != BPF_SOCK_OPS_HDR_OPT_LEN_CB && op != BPF_SOCK_OPS_WRITE_HDR_OPT_CB)
        return op < 20 ? op : 19;
    __u32 segment = PROFILE_SEGMENT_OTHER;
    if (flags & TCPHDR_SYN)
        segment = (flags & TCPHDR_ACK) ? PROFILE_SEGMENT_SYN_ACK : PROFILE_SEGMENT_SYN;
    else if (flags & TCPHDR_RST)
        segment = PROFILE_SEGMENT_RESET;
    else if (flags & TCPHDR_FIN)
        segment = PROFILE_SEGMENT_FIN;
    else if (!flags)
        segment = PROFILE_SEGMENT_NONE;
    return (op == BPF_SOCK_OPS_HDR_OPT_LEN_CB ? 20 : 30) + segment;
}

/* Runs `handler` on `skops` and records its time under the callback's key. */
#define PROFILED(handler, skops)                                                   \
    ({                                                                             \
        __u32 key_ = profile_key((skops)->op, (skops)->skb_tcp_flags);             \
        __u64 start_ = bpf_ktime_get_ns();                                         \
        int result_ = handler(skops);                                              \
        struct profile_value *value_ = bpf_map_lookup_elem(&profile, &key_);       \
        if (value_) {                                                              \
            value_->runs++;                                                        \
            value_->ns += bpf_ktime_get_ns() - start_;                             \
        }                                                                          \
        result_;                                                                   \
    })

#endif
