/* The few definitions our BPF programs need beyond <linux/bpf.h>.
 * Written for swift-sockmap so the programs build without libbpf's headers. */
#ifndef SOCKMAP_HELPERS_H
#define SOCKMAP_HELPERS_H

#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))
#undef __always_inline
#define __always_inline inline __attribute__((always_inline))

/* BTF-defined map fields, as libbpf and our loader read them from `.maps`. */
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

/* Makes a value opaque to the optimiser, so it cannot turn two context loads into one load
 * through a selected pointer (which the verifier rejects). */
#define barrier_var(var) asm volatile("" : "+r"(var))

#define bpf_htonl(x) __builtin_bswap32(x)
#define bpf_ntohl(x) __builtin_bswap32(x)

/* Helpers are called through their fixed ids in enum bpf_func_id. */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_sock_hash_update)(struct bpf_sock_ops *skops, void *map, void *key, __u64 flags) =
    (void *)BPF_FUNC_sock_hash_update;
static long (*bpf_msg_redirect_hash)(struct sk_msg_md *msg, void *map, void *key, __u64 flags) =
    (void *)BPF_FUNC_msg_redirect_hash;
static __u64 (*bpf_get_netns_cookie)(void *ctx) = (void *)BPF_FUNC_get_netns_cookie;
static void *(*bpf_sk_storage_get)(void *map, void *sk, void *value, __u64 flags) = (void *)BPF_FUNC_sk_storage_get;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)BPF_FUNC_map_update_elem;
static long (*bpf_map_delete_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_delete_elem;
static long (*bpf_probe_read_kernel)(void *dst, __u32 size, const void *unsafe_ptr) = (void *)BPF_FUNC_probe_read_kernel;
static void *(*bpf_skc_to_tcp_sock)(void *sk) = (void *)BPF_FUNC_skc_to_tcp_sock;
static long (*bpf_sock_ops_cb_flags_set)(struct bpf_sock_ops *skops, int flags) = (void *)BPF_FUNC_sock_ops_cb_flags_set;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)BPF_FUNC_ktime_get_ns;
static long (*bpf_seq_write)(void *seq, const void *data, __u32 len) = (void *)BPF_FUNC_seq_write;
static __u64 (*bpf_get_socket_cookie)(void *ctx) = (void *)BPF_FUNC_get_socket_cookie;
static __u32 (*bpf_get_prandom_u32)(void) = (void *)BPF_FUNC_get_prandom_u32;
static long (*bpf_load_hdr_opt)(struct bpf_sock_ops *skops, void *searchby_res, __u32 len, __u64 flags) =
    (void *)BPF_FUNC_load_hdr_opt;
static long (*bpf_store_hdr_opt)(struct bpf_sock_ops *skops, const void *from, __u32 len, __u64 flags) =
    (void *)BPF_FUNC_store_hdr_opt;
static long (*bpf_reserve_hdr_opt)(struct bpf_sock_ops *skops, __u32 len, __u64 flags) = (void *)BPF_FUNC_reserve_hdr_opt;
static long (*bpf_setsockopt)(void *sk, int level, int optname, void *optval, int optlen) = (void *)BPF_FUNC_setsockopt;
static long (*bpf_getsockopt)(void *sk, int level, int optname, void *optval, int optlen) = (void *)BPF_FUNC_getsockopt;
static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)BPF_FUNC_trace_printk;

/* bpf_printk("fmt", up to 3 args): one line in the kernel's trace_pipe (`swift-sockmap trace`).
 * The format is a static array in .rodata, as with libbpf's macro. Each call costs a helper
 * call: guard it with a `const volatile` switch, which the verifier prunes when it is off. */
#define bpf_printk(fmt, ...)                                         \
    ({                                                               \
        static const char ____fmt[] = fmt;                           \
        bpf_trace_printk(____fmt, sizeof(____fmt), ##__VA_ARGS__);   \
    })

#endif
