/* The few kernel structure fields the data path reads, as minimal CO-RE definitions.
 *
 * Each field carries the name it has in the kernel, and `preserve_access_index` records every
 * access as a relocation: the loader looks the field up in the running kernel's BTF and puts its
 * real offset into the instruction (the `___sockmap` suffix is dropped when matching names).
 * The layouts below are therefore not the kernel's: only the names and types matter. */
#ifndef SOCKMAP_KERNEL_TYPES_H
#define SOCKMAP_KERNEL_TYPES_H

typedef struct {
    int counter;
} atomic_t___sockmap;

/* struct sock */
struct sock___sockmap {
    struct {
        atomic_t___sockmap rmem_alloc; /* bytes charged to the receive side: TCP skbs and redirected messages */
    } sk_backlog;
    int sk_rcvbuf;
} __attribute__((preserve_access_index));

/* struct sk_msg: what an sk_msg program's context really is. After bpf_msg_redirect_hash(),
 * sk_redir is the socket the message goes to. */
struct sk_msg___sockmap {
    struct sock___sockmap *sk_redir;
} __attribute__((preserve_access_index));

#endif
