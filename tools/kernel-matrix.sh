#!/usr/bin/env bash
# Kernel matrix: boots Debian's own kernels under QEMU (TCG, no KVM needed) and runs the
# kernel-dependent tests inside each guest, then prints one table: kernel × test → pass, fail,
# or skipped with the reason.
#
#   tools/kernel-matrix.sh            fetch (cached), boot and test every kernel
#   tools/kernel-matrix.sh fetch      only fetch and unpack the kernels
#
# Kernels: Debian bullseye (5.10), bookworm (6.1), trixie (6.12) and sid (the newest). They are
# fetched with `apt-get download` through a temporary sources list that lives in a temporary
# directory (the machine's own lists are never edited), unpacked with `dpkg -x` (never installed),
# and cached under .build/kernel-matrix/. The mirror is the one in the machine's own
# /etc/apt/sources.list.d/debian.sources.
#
# Each guest gets a tiny initramfs (busybox and the kernel's own 9p/virtio modules), mounts the
# host's / read-only over 9p, mounts proc, sys, cgroup2, bpffs and tmpfs, and runs the already
# built test binary (.build/debug/swift-sockmapPackageTests.xctest, so build first) with CI=true
# and a filter covering load, redirect (bytes checked), dump-map, netns isolation, pairing across
# namespaces (bridges, a published port, forged tokens), policy, pause,
# replace and detach (with its sweep of idle connections, which needs the kernel's TCP
# iterator), flow control (detours and their returns,
# locked small buffers, MSG_WAITALL and SO_RCVLOWAT readers), plus the kernel-feature probes and
# `swift-sockmap probe`, and the loader's CO-RE
# tests (the fixtures loaded, run and compared with libbpf's load), which run on every kernel,
# including those where `load` is refused.
#
# Environment: KERNEL_MATRIX_SUITES (default "bullseye bookworm trixie sid"),
# KERNEL_MATRIX_FILTER (a swift-testing --filter regex), KERNEL_MATRIX_CORE_FILTER (the CO-RE
# part, which the default filter includes and refused kernels run too; empty for none),
# KERNEL_MATRIX_TIMEOUT (seconds per guest).
# Needs qemu-system-x86, busybox-static, xz-utils, zstd and kmod (installed when missing).
# Exit status: 0 when no test failed on any kernel (a clear refusal counts as expected), 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

cache="$root/.build/kernel-matrix"
suites=${KERNEL_MATRIX_SUITES:-"bullseye bookworm trixie sid"}
# explicitBTFFile is left out: reading BTF from a file does not depend on the kernel.
core_filter=${KERNEL_MATRIX_CORE_FILTER-"CORETests/(programsRead|probeRead|unguarded)"}
filter=${KERNEL_MATRIX_FILTER:-"LifecycleTests/loadThenDetach|CLITests/endToEnd|DataPathTests/(entriesShowBothEnds|idleConnectionShowsItsPair|closedConnectionsLeaveNoRecords|reconnectedSocketStartsAfresh|refusedThenConnected)|IsolationTests/sameTupleInTwoNamespaces|CrossNamespaceTests|PolicyTests/denyPort|PolicyTests/pauseResume|ReplaceTests/replaceKeepsConnections|LiveDetachTests/(detachReleasesIdleConnections|detachSweepsOtherNamespaces)|FlowControlTests/(lockedSmallBuffersPeerClosesMidway|stallsAndBursts|waitingReaders)|KernelFeatureTests|ProbeCommandTests${core_filter:+|$core_filter}"}
guest_timeout=${KERNEL_MATRIX_TIMEOUT:-600}
tests_binary="$root/.build/debug/swift-sockmapPackageTests.xctest"
# veth, bridge and nftables' NAT: the cross-namespace tests build bridges and a published port
# (libcrc32c, which nf_tables needs, finds no crc32c at init without crc32c_generic: its softdep).
modules_wanted="virtio_pci virtio_rng 9pnet_virtio 9p veth bridge crc32c_generic nft_chain_nat nft_nat"

log() { echo "kernel-matrix: $*" >&2; }

need_tools() {
    local missing=()
    command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
    [ -x /bin/busybox ] || missing+=(busybox-static)
    command -v xz >/dev/null || missing+=(xz-utils)
    command -v zstd >/dev/null || missing+=(zstd)
    command -v depmod >/dev/null || missing+=(kmod)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# The machine's own Debian mirror (first URIs: line that is not the security archive).
debian_mirror() {
    local sources=/etc/apt/sources.list.d/debian.sources
    [ -r "$sources" ] || { log "no $sources to take the Debian mirror from"; exit 1; }
    awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' "$sources"
}

# Downloads and unpacks linux-image-amd64's kernel for every suite not cached yet.
fetch_kernels() {
    local todo=() suite
    for suite in $suites; do [ -f "$cache/$suite/vmlinuz" ] || todo+=("$suite"); done
    [ ${#todo[@]} -eq 0 ] && return 0

    local mirror
    mirror=$(debian_mirror)
    tmp=$(mktemp -d) # global: the EXIT trap needs it
    # The temporary list, its package lists and cache live in $tmp only; removed at the end, or on
    # any exit.
    trap 'rm -rf "$tmp"; apt-get update -qq >/dev/null 2>&1 || true' EXIT
    mkdir -p "$tmp/parts" "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/debs"
    cat >"$tmp/parts/kernel-matrix.sources" <<EOF
Types: deb
URIs: $mirror
Suites: ${todo[*]}
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    local apt=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$tmp/parts"
               -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o "APT::Get::List-Cleanup=0"
               -o "APT::Sandbox::User=root")
    log "fetching package lists for ${todo[*]} from $mirror"
    apt-get "${apt[@]}" update -qq >/dev/null

    for suite in "${todo[@]}"; do
        (
            cd "$tmp/debs"
            rm -f ./*.deb
            apt-get "${apt[@]}" download -qq "linux-image-amd64/$suite" >/dev/null
            local image
            image=$(dpkg-deb -f linux-image-amd64_*.deb Depends | tr ',' '\n' | grep -o 'linux-image-[^ ]*' | head -1)
            # Newer suites split the image into linux-binary-* (vmlinuz) and linux-modules-*.
            apt-get "${apt[@]}" download -qq "$image/$suite" >/dev/null
            local parts
            parts=$(dpkg-deb -f "$image"_*.deb Depends | tr ',' '\n' | grep -o 'linux-\(binary\|modules\)-[^ ]*' || true)
            log "$suite: downloading $image $parts"
            local part
            for part in $parts; do apt-get "${apt[@]}" download -qq "$part/$suite" >/dev/null; done
            rm -rf "$cache/$suite"
            mkdir -p "$cache/$suite/root"
            for part in $image $parts; do dpkg -x "$part"_*.deb "$cache/$suite/root"; done
            # The kernel's modules directory (newer suites keep vmlinuz there).
            local moddir release
            moddir=$(dirname "$(find "$cache/$suite/root" -path '*/modules/*/kernel' -type d | head -1)")
            release=$(basename "$moddir")
            echo "$release" >"$cache/$suite/release"
            if [ -f "$cache/$suite/root/boot/vmlinuz-$release" ]; then
                cp "$cache/$suite/root/boot/vmlinuz-$release" "$cache/$suite/vmlinuz"
            else
                cp "$moddir/vmlinuz" "$cache/$suite/vmlinuz"
            fi
        )
    done
    rm -rf "$tmp"
    trap - EXIT
    apt-get update -qq >/dev/null 2>&1 || true # the machine's own lists, as they were
}

# The dependency-ordered list of module paths (relative to lib/modules/<release>) to load.
module_order() {
    local moddir=$1 seen=" " order=()
    add_module() {
        local name=$1 line path deps dep
        grep -qE "/${name//_/[_-]}\.ko(\.xz|\.zst|\.gz)?$" "$moddir/modules.builtin" 2>/dev/null && return 0
        line=$(grep -E "(^|/)${name//_/[_-]}\.ko(\.xz|\.zst|\.gz)?:" "$moddir/modules.dep" || true)
        [ -n "$line" ] || { log "module $name not found (builtin?)"; return 0; }
        path=${line%%:*}; deps=${line#*:}
        case "$seen" in *" $path "*) return 0 ;; esac
        for dep in $deps; do
            dep=$(basename "$dep"); dep=${dep%%.ko*}
            add_module "$dep"
        done
        case "$seen" in *" $path "*) return 0 ;; esac
        seen="$seen$path "
        order+=("$path")
    }
    local m
    for m in $modules_wanted; do add_module "$m"; done
    printf '%s\n' "${order[@]}"
}

# Builds the initramfs for one suite: busybox, decompressed modules, /init.
build_initramfs() {
    local suite=$1 release moddir work
    release=$(cat "$cache/$suite/release")
    [ -e "$cache/$suite/root/lib" ] || ln -s usr/lib "$cache/$suite/root/lib" # merged /usr (trixie on)
    moddir="$cache/$suite/root/lib/modules/$release"
    # Packages ship no modules.dep (depmod runs at install time): depmod writes it into the unpacked tree.
    [ -f "$moddir/modules.dep" ] || depmod -b "$cache/$suite/root" "$release" 2>/dev/null
    work="$cache/$suite/initramfs"
    rm -rf "$work"; mkdir -p "$work/bin" "$work/modules" "$work/proc" "$work/sys" "$work/dev" "$work/host"
    cp /bin/busybox "$work/bin/busybox"
    local path n=0 out
    : >"$work/modules/order"
    while read -r path; do
        [ -n "$path" ] || continue
        n=$((n + 1)); out="$work/modules/$(printf %02d $n)-$(basename "${path%%.ko*}").ko"
        case "$path" in
            *.xz) xz -dc "$moddir/$path" >"$out" ;;
            *.zst) zstd -qdc "$moddir/$path" >"$out" ;;
            *.gz) gzip -dc "$moddir/$path" >"$out" ;;
            *) cp "$moddir/$path" "$out" ;;
        esac
        basename "$out" >>"$work/modules/order"
    done < <(module_order "$moddir")
    cp "$root/tools/kernel-matrix-init.sh" "$work/init"
    chmod +x "$work/init"
    (cd "$work" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$cache/$suite/initramfs.cpio.gz"
}

# Boots one suite's kernel and runs the guest script; its console goes to $cache/<suite>/console.log.
boot() {
    local suite=$1
    printf '%q ' "$root/tools/kernel-matrix-guest.sh" "$root" "$filter" "$core_filter" >"$cache/$suite/guest-command"
    # The command reaches the guest through a file on the (read-only) host root.
    timeout "$guest_timeout" qemu-system-x86_64 -accel tcg -cpu max -m 2G -smp 2 -nographic -no-reboot \
        -kernel "$cache/$suite/vmlinuz" -initrd "$cache/$suite/initramfs.cpio.gz" \
        -append "console=ttyS0 panic=-1 quiet loglevel=1 random.trust_cpu=on matrix_command=$cache/$suite/guest-command matrix_project=$root" \
        -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
        -virtfs "local,path=$root,mount_tag=project,security_model=none,readonly=on,multidevs=remap" \
        -device virtio-rng-pci -nic none >"$cache/$suite/console.log" 2>&1 || true
}

case "${1:-all}" in
    fetch) need_tools; fetch_kernels; exit 0 ;;
    all) ;;
    *) echo "usage: $0 [fetch]" >&2; exit 2 ;;
esac

need_tools
fetch_kernels
[ -x "$tests_binary" ] || { log "build the tests first (swift build --build-tests): $tests_binary is missing"; exit 1; }
for suite in $suites; do
    build_initramfs "$suite"
    start=$(date +%s)
    log "$suite ($(cat "$cache/$suite/release")): booting"
    boot "$suite"
    echo $(( $(date +%s) - start )) >"$cache/$suite/seconds"
    log "$suite: done in $(cat "$cache/$suite/seconds")s"
done
exec python3 "$root/tools/kernel-matrix-report.py" "$cache" $suites
