#!/usr/bin/env bash
# Builds swift-sockmap, sockmap-bench (release) and the BPF objects (ours and the loader's test
# fixtures, among them the seed's programs), then runs the benchmark. Without --modes it runs
# plain, accelerated, reference (the seed's programs on a cgroup of their own) and unix.
#
#   sudo tools/bench.sh                # full run: a few minutes on 2 cores
#   sudo tools/bench.sh --quick        # under a minute
#   sudo tools/bench.sh --workloads rtt,stream --rounds 3
#
# Arguments go to sockmap-bench unchanged (see `sockmap-bench --help`). Results land in
# results/bench-<date>.md (the report), .json (every round) and .svg (chart).
# SCRATCH_PATH overrides the build folder (default .build).
set -euo pipefail

cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
    echo "bench.sh: run as root (cgroups and BPF need it)" >&2
    exit 1
fi

scratch=${SCRATCH_PATH:-.build}
# Build chatter goes to stderr: stdout is the report alone. swift build takes one --product.
swift build -c release --scratch-path "$scratch" --product swift-sockmap >&2
swift build -c release --scratch-path "$scratch" --product sockmap-bench >&2
bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path)
make -C bpf >&2

mkdir -p results
stamp=$(date -u +%Y%m%d-%H%M%S)
out=results/bench-$stamp
modes=(--modes plain,accelerated,reference,unix)
for arg in "$@"; do
    case $arg in --modes|--modes=*) modes=() ;; esac
done
"$bin/sockmap-bench" \
    --sockmap "$bin/swift-sockmap" \
    --object bpf/redir.o \
    --reference-object Tests/Fixtures/bpf/libbpf_seed_sockmap.o \
    "${modes[@]}" \
    --json "$out.json" \
    --svg "$out.svg" \
    "$@" > "$out.md"
cat "$out.md"
echo "bench.sh: wrote $out.md, $out.json, $out.svg" >&2
