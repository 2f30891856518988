/* A CO-RE read of a field no kernel has, without a bpf_core_field_exists guard: the loader
 * poisons the load (a call to helper 0xbad2310), so the verifier rejects the program, pointing
 * at that instruction, as it does for libbpf. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task_struct {
    int swift_sockmap_no_such_field;
} __attribute__((preserve_access_index));

SEC("socket")
int core_unguarded(struct __sk_buff *skb)
{
    struct task_struct *task = bpf_get_current_task_btf();

    return task->swift_sockmap_no_such_field;
}

char LICENSE[] SEC("license") = "GPL";
