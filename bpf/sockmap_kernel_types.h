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

typedef struct {
    long long counter;
} atomic64_t___sockmap;

/* struct sock_common: the part of a socket that request and time-wait sockets share. */
struct sock_common___sockmap {
    atomic64_t___sockmap skc_cookie; /* the socket cookie (SO_COOKIE), 0 until first asked for */
    unsigned char skc_state;         /* TCP_LISTEN, TCP_ESTABLISHED, ... */
    unsigned short skc_num;          /* the local port, host order */
} __attribute__((preserve_access_index));

/* struct kernfs_node and struct cgroup: a cgroup's id is its kernfs node's (the inode number of
 * its cgroup2 directory). */
struct kernfs_node___sockmap {
    unsigned long long id;
} __attribute__((preserve_access_index));

struct cgroup___sockmap {
    struct kernfs_node___sockmap *kn;
} __attribute__((preserve_access_index));

/* struct sock_cgroup_data (5.15 on: a plain pointer to the socket's cgroup v2). */
struct sock_cgroup_data___sockmap {
    struct cgroup___sockmap *cgroup;
} __attribute__((preserve_access_index));

/* struct list_head */
struct list_head___sockmap {
    struct list_head___sockmap *next;
    struct list_head___sockmap *prev;
} __attribute__((preserve_access_index));

/* struct wait_queue_entry: one waiter of a wait queue. `private` is the waiting task for a thread
 * blocked in the kernel (send, recv, poll, select); epoll's entries have none. */
struct wait_queue_entry___sockmap {
    void *private;
    struct list_head___sockmap entry;
} __attribute__((preserve_access_index));

/* struct socket_wq: the wait queue of a socket's readers and writers. */
struct socket_wq___sockmap {
    struct {
        struct list_head___sockmap head;
    } wait;
} __attribute__((preserve_access_index));

/* struct sock */
struct sock___sockmap {
    struct sock_common___sockmap __sk_common;
    struct {
        int owned; /* a thread holds the socket's lock (lock_sock) */
        struct {
            struct list_head___sockmap head; /* threads waiting for the lock */
        } wq;
    } sk_lock;
    struct {
        atomic_t___sockmap rmem_alloc; /* bytes charged to the receive side: TCP skbs and redirected messages */
    } sk_backlog;
    int sk_rcvbuf;
    int sk_rcvlowat;                        /* SO_RCVLOWAT */
    unsigned int sk_userlocks : 4;          /* SOCK_RCVBUF_LOCK: the application set SO_RCVBUF (a byte in 6.18, a bitfield in older kernels: read with CO-RE bitfield relocations) */
    struct socket_wq___sockmap *sk_wq;      /* its waiters */
    /* The socket's psock while it is in a sockmap, tagged in its low bits (SK_USER_DATA_PSOCK). */
    void *sk_user_data;
    struct sock_cgroup_data___sockmap sk_cgrp_data; /* the cgroup the socket was made in */
} __attribute__((preserve_access_index));

/* SK_USER_DATA_PSOCK and SK_USER_DATA_PTRMASK (include/net/sock.h): sk_user_data points to a
 * psock when this bit is set; the low three bits are flags. */
#define SK_USER_DATA_PSOCK___sockmap 4ULL
#define SK_USER_DATA_FLAG_BITS___sockmap 7ULL

/* struct sk_psock (include/linux/skmsg.h): a socket's sockmap state.
 * - ingress_msg: its redirect queue, messages redirected to it and not read yet;
 * - link: one entry per map the socket is in;
 * - refcnt: one per map link, plus one for every thread inside the socket's sendmsg()
 *   (tcp_bpf_sendmsg() holds it from before the verdict until after the redirected bytes are
 *   queued at the receiver) or recvmsg(). */
struct sk_psock___sockmap {
    struct list_head___sockmap ingress_msg;
    struct list_head___sockmap link;
    struct {
        atomic_t___sockmap refs;
    } refcnt;
} __attribute__((preserve_access_index));

/* struct tcp_sock (it begins with its struct sock): where its byte stream stands.
 * - write_seq: after the last byte the application gave TCP (sent or not);
 * - copied_seq: the next byte the application will read from TCP. */
struct tcp_sock___sockmap {
    unsigned int write_seq;
    unsigned int copied_seq;
} __attribute__((preserve_access_index));

#define SOCK_RCVBUF_LOCK___sockmap 2

/* struct sk_msg: what an sk_msg program's context really is. After bpf_msg_redirect_hash(),
 * sk_redir is the socket the message goes to; sk is the sending socket. */
struct sk_msg___sockmap {
    struct sock___sockmap *sk_redir;
    struct sock___sockmap *sk;
} __attribute__((preserve_access_index));

/* struct bpf_iter_meta: what every BPF iterator gets; seq is its output (bpf_seq_write). */
struct bpf_iter_meta___sockmap {
    void *seq;
} __attribute__((preserve_access_index));

/* struct bpf_iter__tcp: the context of an "iter/tcp" program, once per TCP socket of the
 * iteration's network namespace (net/ipv4/tcp_ipv4.c); sk_common is NULL after the last one. */
struct bpf_iter__tcp___sockmap {
    struct bpf_iter_meta___sockmap *meta;
    struct sock_common___sockmap *sk_common;
} __attribute__((preserve_access_index));

#endif
