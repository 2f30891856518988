/* What the two CO-RE fixtures share (libbpf_core.c, libbpf_core_probe_read.c): the kernel's
 * structures declared locally with only the members used, marked preserve_access_index; the
 * result slots the tests know by number; the `results` array; and the relocation kinds that
 * resolve to constants (put_kinds), which any program type can run. */
#ifndef LIBBPF_CORE_H
#define LIBBPF_CORE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct ns_common {
    unsigned int inum;
    union {
        struct {
            __u64 ns_id;
        };
    };
} __attribute__((preserve_access_index));

struct net {
    struct ns_common ns;
} __attribute__((preserve_access_index));

struct nsproxy {
    struct net *net_ns;
} __attribute__((preserve_access_index));

struct task_struct {
    int tgid;
    char comm[16];
    struct nsproxy *nsproxy;
    unsigned int in_execve : 1;
    unsigned int sched_reset_on_fork : 1;
    /* Not in any kernel: reads of it are poisoned and must be dead code. */
    int swift_sockmap_no_such_field;
} __attribute__((preserve_access_index));

/* A flavour: matches the kernel's struct sock; the suffix is dropped when looking it up. */
struct sock___core {
    int sk_rcvbuf;
    unsigned short sk_type;
    unsigned char sk_kern_sock : 1;
    unsigned char sk_no_check_tx : 1;
} __attribute__((preserve_access_index));

typedef struct {
    int counter;
} atomic_t;

struct sock {
    int sk_rcvbuf;
    struct {
        atomic_t rmem_alloc;
    } sk_backlog;
} __attribute__((preserve_access_index));

/* Matches the kernel's struct ns_common (TYPE_MATCHES): a namesake member of the same type.
 * struct sock___core does not: clang names its u16 "unsigned short", the kernel's BTF "short
 * unsigned int", and type matching compares integer names. */
struct ns_common___match {
    unsigned int inum;
} __attribute__((preserve_access_index));

struct swift_sockmap_no_such_struct {
    int x;
} __attribute__((preserve_access_index));

enum bpf_map_type___core {
    BPF_MAP_TYPE_SOCKHASH___core = 1,
    BPF_MAP_TYPE_SWIFT_SOCKMAP_NONE___core = 2,
};

/* Result slots; the test knows them by these numbers. */
enum {
    R_TGID, R_NETNS_INUM, R_NS_ID, R_COMM0, R_COMM8, R_IN_EXECVE, R_RESET_ON_FORK, R_MISSING,
    R_OFF_RCVBUF, R_SIZE_RCVBUF, R_EXISTS_RCVBUF, R_EXISTS_MISSING, R_SIGNED_RCVBUF, R_SIGNED_TYPE,
    R_SIZE_KERN_SOCK, R_OFF_KERN_SOCK, R_LSHIFT_KERN_SOCK, R_RSHIFT_KERN_SOCK, R_RSHIFT_NO_CHECK_TX,
    R_LOCAL_ID, R_TARGET_ID, R_TYPE_EXISTS, R_TYPE_MISSING, R_TYPE_SIZE, R_TYPE_MATCHES,
    R_ENUM_EXISTS, R_ENUM_MISSING, R_ENUM_VALUE, R_SOCK_RCVBUF, R_SOCK_RMEM_ALLOC, R_NS_MATCHES, R_COUNT
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, R_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} results SEC(".maps");

static __always_inline void put(__u32 slot, __u64 value)
{
    bpf_map_update_elem(&results, &slot, &value, BPF_ANY);
}

/* field offset/size/exists/signed, bitfields (lshift/rshift), type id local/target, type
 * exists/size (and matches with clang >= 15), enum value exists/value, a flavoured type (struct
 * sock___core is the kernel's struct sock), all constants once relocated. */
static __always_inline void put_kinds(void)
{
    struct sock___core *sk = 0;

    put(R_OFF_RCVBUF, bpf_core_field_offset(sk->sk_rcvbuf));
    put(R_SIZE_RCVBUF, bpf_core_field_size(sk->sk_rcvbuf));
    put(R_EXISTS_RCVBUF, bpf_core_field_exists(sk->sk_rcvbuf));
    put(R_EXISTS_MISSING, bpf_core_field_exists(((struct task_struct *)0)->swift_sockmap_no_such_field));
    put(R_SIGNED_RCVBUF, __builtin_preserve_field_info(sk->sk_rcvbuf, BPF_FIELD_SIGNED));
    put(R_SIGNED_TYPE, __builtin_preserve_field_info(sk->sk_type, BPF_FIELD_SIGNED));
    put(R_SIZE_KERN_SOCK, bpf_core_field_size(sk->sk_kern_sock));
    put(R_OFF_KERN_SOCK, bpf_core_field_offset(sk->sk_kern_sock));
    put(R_LSHIFT_KERN_SOCK, __builtin_preserve_field_info(sk->sk_kern_sock, BPF_FIELD_LSHIFT_U64));
    put(R_RSHIFT_KERN_SOCK, __builtin_preserve_field_info(sk->sk_kern_sock, BPF_FIELD_RSHIFT_U64));
    put(R_RSHIFT_NO_CHECK_TX, __builtin_preserve_field_info(sk->sk_no_check_tx, BPF_FIELD_RSHIFT_U64));
    put(R_LOCAL_ID, bpf_core_type_id_local(struct sock___core));
    put(R_TARGET_ID, bpf_core_type_id_kernel(struct sock___core));
    put(R_TYPE_EXISTS, bpf_core_type_exists(struct sock___core));
    put(R_TYPE_MISSING, bpf_core_type_exists(struct swift_sockmap_no_such_struct));
    put(R_TYPE_SIZE, bpf_core_type_size(struct sock___core));
#if __clang_major__ >= 15
    put(R_TYPE_MATCHES, bpf_core_type_matches(struct sock___core));
    put(R_NS_MATCHES, bpf_core_type_matches(struct ns_common___match));
#else
    /* clang 14 cannot emit TYPE_MATCHES; the unit tests cover it */
    put(R_TYPE_MATCHES, 2);
    put(R_NS_MATCHES, 2);
#endif
    put(R_ENUM_EXISTS, bpf_core_enum_value_exists(enum bpf_map_type___core, BPF_MAP_TYPE_SOCKHASH___core));
    put(R_ENUM_MISSING, bpf_core_enum_value_exists(enum bpf_map_type___core, BPF_MAP_TYPE_SWIFT_SOCKMAP_NONE___core));
    put(R_ENUM_VALUE, bpf_core_enum_value(enum bpf_map_type___core, BPF_MAP_TYPE_SOCKHASH___core));
}

#endif
