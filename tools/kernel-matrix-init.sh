#!/bin/busybox sh
# /init of the kernel-matrix guests (see tools/kernel-matrix.sh): loads the kernel's own virtio
# and 9p modules, mounts the host's / read-only over 9p, gives it writable /tmp and /run and the
# kernel file systems the tests need, runs the command file named by matrix_command= on the
# kernel command line inside it, and powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for module in $(cat /modules/order); do
    insmod "/modules/$module" || echo "matrix: insmod $module failed"
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /host \
    || mount -t 9p -o trans=virtio,version=9p2000.L,ro hostroot /host \
    || { echo "matrix: cannot mount the host root over 9p"; poweroff -f; }
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mkdir -p /host/dev/pts /host/dev/shm 2>/dev/null
mount -t devpts devpts /host/dev/pts 2>/dev/null
mount -t tmpfs tmpfs /host/dev/shm
mount -t tmpfs tmpfs /host/tmp
mount -t tmpfs tmpfs /host/run
# A project tree under /tmp or /run (a CI clone, say) is hidden by those tmpfs mounts: the host
# shares it again as "project", mounted back at its own path.
if [ -n "$matrix_project" ] && [ ! -d "/host$matrix_project" ]; then
    mkdir -p "/host$matrix_project"
    mount -t 9p -o trans=virtio,version=9p2000.L,ro project "/host$matrix_project" \
        || echo "matrix: cannot mount the project tree at $matrix_project"
fi
mount -t cgroup2 cgroup2 /host/sys/fs/cgroup
mount -t bpf bpf /host/sys/fs/bpf
mount -t tracefs tracefs /host/sys/kernel/tracing 2>/dev/null
ip link set lo up
echo "matrix: kernel $(uname -r)"
echo "matrix: begin"
chroot /host /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/tmp CI=true TERM=dumb /bin/bash "$matrix_command"
echo "matrix: end status $?"
poweroff -f
