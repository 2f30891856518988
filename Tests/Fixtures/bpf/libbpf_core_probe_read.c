/* The CO-RE fixture for kernels whose socket filters cannot call bpf_get_current_task_btf (5.10):
 * raw tracepoint programs, which every kernel from 5.10 on can run with BPF_PROG_TEST_RUN (no
 * input, in the calling thread) and which have bpf_get_current_task and bpf_probe_read_kernel.
 * Same result slots as libbpf_core.c (libbpf_core.h), read the older way: through an untyped
 * task pointer with libbpf's BPF_CORE_READ macros, so every field access is a relocated
 * offset passed to bpf_probe_read_kernel.
 *
 *   core_task   tgid, the netns inode through task->nsproxy->net_ns->ns.inum, ns_id inside an
 *               anonymous union (6.18 on, guarded), comm[], two bitfields read with
 *               BPF_CORE_READ_BITFIELD_PROBED, and a missing field read only under
 *               bpf_core_field_exists (poisoned, dead code)
 *   core_kinds  put_kinds (libbpf_core.h): the relocations that resolve to constants
 *
 * Not attached anywhere: the section's tracepoint name is only libbpf's convention. */
#include "libbpf_core.h"

SEC("raw_tp/sys_enter")
int core_task(void *ctx)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    __u64 comm = 0;

    put(R_TGID, BPF_CORE_READ(task, tgid));
    put(R_NETNS_INUM, BPF_CORE_READ(task, nsproxy, net_ns, ns.inum));
    if (bpf_core_field_exists(task->nsproxy->net_ns->ns.ns_id))
        put(R_NS_ID, BPF_CORE_READ(task, nsproxy, net_ns, ns.ns_id));
    bpf_core_read(&comm, sizeof(comm), &task->comm[0]);
    put(R_COMM0, comm);
    bpf_core_read(&comm, sizeof(comm), &task->comm[8]);
    put(R_COMM8, comm);
    put(R_IN_EXECVE, BPF_CORE_READ_BITFIELD_PROBED(task, in_execve));
    put(R_RESET_ON_FORK, BPF_CORE_READ_BITFIELD_PROBED(task, sched_reset_on_fork));
    if (bpf_core_field_exists(task->swift_sockmap_no_such_field))
        put(R_MISSING, BPF_CORE_READ(task, swift_sockmap_no_such_field));
    else
        put(R_MISSING, 0xdead);
    return 0;
}

SEC("raw_tp/sys_enter")
int core_kinds(void *ctx)
{
    put_kinds();
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
