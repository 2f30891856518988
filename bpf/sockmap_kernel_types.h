/* The few kernel structure fields the data path reads through BTF-typed socket pointers.
 *
 * Minimal CO-RE definitions: each field carries the name it has in the kernel's `struct sock`,
 * and `preserve_access_index` records every access as a relocation against the kernel's BTF
 * (the `___sockmap` suffix is dropped when matching names). The padding reproduces the layout of
 * Linux 6.18 (x86-64) so the compile-time offsets are right there even where relocations are not
 * applied; where they are, the kernel's own offsets replace them. */
#ifndef SOCKMAP_KERNEL_TYPES_H
#define SOCKMAP_KERNEL_TYPES_H

#include <linux/types.h>

typedef struct {
    int counter;
} atomic_t___sockmap;

struct sock___sockmap {
    char __pad_common[192];
    struct {
        atomic_t___sockmap rmem_alloc; /* bytes charged to the receive side: TCP skbs and redirected sk_msgs */
    } sk_backlog;
    char __pad_backlog[244 - 196];
    int sk_rcvbuf;
} __attribute__((preserve_access_index));

/* The kernel's `struct sk_msg`, which an sk_msg program's context really is: after
 * bpf_msg_redirect_hash() its sk_redir is the socket the message goes to. */
struct sk_msg___sockmap {
    char __pad[680];
    struct sock___sockmap *sk_redir;
} __attribute__((preserve_access_index));

#endif
