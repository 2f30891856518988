/* Global data: a `const volatile` setting in .rodata (frozen, read-only for programs), an
 * initialised .data variable, a .bss counter, a string literal and two bpf_printk formats
 * (static arrays in .rodata). */
#include "sockmap_helpers.h"

char _license[] SEC("license") = "GPL";

const volatile __u32 verbose = 0;
const volatile __u64 threshold = 100;
__u64 packets_seen = 7;    /* .data */
__u64 bytes_seen;          /* .bss */
__u32 last_length;         /* .bss */

SEC("socket")
int count_packets(struct __sk_buff *skb)
{
    __u32 len = skb->len;
    packets_seen += 1;
    bytes_seen += len;
    last_length = len;
    if (verbose)
        bpf_printk("swift-sockmap: len %u", len);
    if (verbose > 1)
        bpf_printk("swift-sockmap: total %llu", bytes_seen);
    return len > threshold ? 0 : skb->len;
}
