/* A CO-RE read of a field no kernel has, without a bpf_core_field_exists guard: the loader
 * poisons the load (a call to helper 0xbad2310), so the verifier rejects the program, pointing
 * at that instruction, as it does for libbpf. A raw tracepoint program, so that every kernel from
 * 5.10 on has the helper before it (bpf_get_current_task) and reaches the poisoned instruction. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task_struct {
    int swift_sockmap_no_such_field;
} __attribute__((preserve_access_index));

SEC("raw_tp/sys_enter")
int core_unguarded(void *ctx)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();

    return task->swift_sockmap_no_such_field;
}

char LICENSE[] SEC("license") = "GPL";
