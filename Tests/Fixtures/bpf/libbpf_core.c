/* CO-RE ("compile once, run everywhere") relocations of every kind, written the usual way: the
 * kernel's structures declared locally with only the members used, marked
 * preserve_access_index (in libbpf_core.h), and libbpf's <bpf/bpf_core_read.h> macros. Socket
 * filters, so a test can run them with BPF_PROG_TEST_RUN: they read the calling task through
 * bpf_get_current_task_btf(), which older kernels (5.10) do not give socket filters
 * (libbpf_core_probe_read.c reads the task their way), and write what they find to the
 * `results` array.
 *
 *   core_task   direct loads (LDX offsets): tgid, the netns inode through
 *               task->nsproxy->net_ns->ns.inum, ns_id inside an anonymous union, comm[]
 *   core_kinds  put_kinds (libbpf_core.h): field offset/size/exists/signed, bitfields
 *               (lshift/rshift), type id local/target, type exists/size (and matches with
 *               clang >= 15, which the Makefile uses when the Swift toolchain's clang is
 *               there), enum value exists/value, a flavoured type (struct sock___core is the
 *               kernel's struct sock); core_task reads a missing field only under
 *               bpf_core_field_exists (poisoned, dead code)
 *   core_sockops the pattern of a sock_ops program reading a socket's receive memory:
 *               bpf_skc_to_tcp_sock, then struct sock fields, one inside the anonymous struct
 *               sk_backlog (compared with libbpf's translation; not run here). */
#include "libbpf_core.h"

SEC("socket")
int core_task(struct __sk_buff *skb)
{
    struct task_struct *task = bpf_get_current_task_btf();
    __u64 comm = 0;

    put(R_TGID, task->tgid);
    put(R_NETNS_INUM, task->nsproxy->net_ns->ns.inum);
    /* ns_common.ns_id is new (6.18): on older kernels the read is poisoned and dead. */
    if (bpf_core_field_exists(task->nsproxy->net_ns->ns.ns_id))
        put(R_NS_ID, task->nsproxy->net_ns->ns.ns_id);
    bpf_probe_read_kernel(&comm, sizeof(comm), &task->comm[0]);
    put(R_COMM0, comm);
    bpf_probe_read_kernel(&comm, sizeof(comm), &task->comm[8]);
    put(R_COMM8, comm);
    put(R_IN_EXECVE, BPF_CORE_READ_BITFIELD(task, in_execve));
    put(R_RESET_ON_FORK, BPF_CORE_READ_BITFIELD_PROBED(task, sched_reset_on_fork));
    if (bpf_core_field_exists(task->swift_sockmap_no_such_field))
        put(R_MISSING, task->swift_sockmap_no_such_field);
    else
        put(R_MISSING, 0xdead);
    return 0;
}

SEC("socket")
int core_kinds(struct __sk_buff *skb)
{
    put_kinds();
    return 0;
}

SEC("sockops")
int core_sockops(struct bpf_sock_ops *ops)
{
    struct bpf_sock *s = ops->sk;
    struct sock *sk;

    if (!s)
        return 1;
    sk = (struct sock *)bpf_skc_to_tcp_sock(s);
    if (!sk)
        return 1;
    put(R_SOCK_RCVBUF, sk->sk_rcvbuf);
    put(R_SOCK_RMEM_ALLOC, sk->sk_backlog.rmem_alloc.counter);
    return 1;
}

char LICENSE[] SEC("license") = "GPL";
