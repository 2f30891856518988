#!/usr/bin/env bash
# What the sock_ops program costs per connection, callback by callback, under sockmap-bench's
# connect workload (connect, 32 B request and response, close with a reset).
#
#   sudo tools/profile-sockops.sh            # 3 rounds of 0.5 s
#   sudo tools/profile-sockops.sh --rounds 10
#
# Builds a profiling variant of bpf/redir.c (clang -DSOCKMAP_PROFILE: bpf/sockmap_profile.h times
# every run into a per-CPU array) into a temporary folder, loads it with swift-sockmap on a cgroup
# of its own, runs the workload there, and prints runs and nanoseconds per connection for each
# callback. Each timed run carries about 35 ns of its own measurement. A developer tool: it reads
# the array with bpftool (apt-get install bpftool); the product never uses bpftool.
# Arguments go to `sockmap-bench run` (e.g. --rounds, --duration).
set -euo pipefail

cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
    echo "profile-sockops.sh: run as root (cgroups and BPF need it)" >&2
    exit 1
fi
command -v bpftool >/dev/null || { echo "profile-sockops.sh: needs bpftool (apt-get install bpftool)" >&2; exit 1; }

scratch=${SCRATCH_PATH:-.build}
swift build -c release --scratch-path "$scratch" --product swift-sockmap >&2
swift build -c release --scratch-path "$scratch" --product sockmap-bench >&2
bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path)

work=$(mktemp -d)
mount=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
cgroup=$mount/sockmap-profile-$$
pins=/sys/fs/bpf/sockmap-profile-$$
cleanup() {
    "$bin/swift-sockmap" detach --pin-dir "$pins" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# shellcheck disable=SC2046 # bpf/cflags holds several flags
clang $(cat bpf/cflags) -I"/usr/include/$(gcc -dumpmachine)" -Ibpf -DSOCKMAP_PROFILE -c bpf/redir.c -o "$work/redir-profile.o"
"$bin/swift-sockmap" load --cgroup "$cgroup" --pin-dir "$pins" "$work/redir-profile.o" >/dev/null
"$bin/sockmap-bench" run --no-load --cgroup "$cgroup" --pin-dir "$pins" --workloads connect \
    --modes accelerated --no-bpf-stats --rounds 3 "$@" 2>/dev/null | grep -E '^\| connect\+' | head -1
"$bin/swift-sockmap" status --pin-dir "$pins" --json > "$work/status.json"
bpftool map dump pinned "$pins/maps/profile" -j > "$work/profile.json"

python3 - "$work/status.json" "$work/profile.json" <<'PY'
import json, sys
status = json.load(open(sys.argv[1]))
counters = status.get("counters", status)
connections = counters["socketsPaired"]
if not connections:
    sys.exit("profile-sockops.sh: no connection was paired")
callbacks = {1: "TIMEOUT_INIT", 2: "RWND_INIT", 3: "TCP_CONNECT", 4: "ACTIVE_ESTABLISHED",
             5: "PASSIVE_ESTABLISHED", 6: "NEEDS_ECN", 10: "STATE", 11: "TCP_LISTEN", 12: "RTT"}
segments = ["SYN", "SYN-ACK", "FIN", "reset", "no segment (MSS)", "other segment"]
rows, total_runs, total_ns = [], 0, 0
for entry in json.load(open(sys.argv[2])):
    formatted = entry["formatted"]
    key = formatted["key"]
    runs = sum(cpu["value"]["runs"] for cpu in formatted["values"])
    ns = sum(cpu["value"]["ns"] for cpu in formatted["values"])
    if not runs:
        continue
    if key >= 30:
        name = f"WRITE_HDR_OPT, {segments[key - 30]}"
    elif key >= 20:
        name = f"HDR_OPT_LEN, {segments[key - 20]}"
    else:
        name = callbacks.get(key, f"op {key}")
    rows.append((name, runs / connections, ns / runs, ns / connections))
    total_runs += runs
    total_ns += ns
print(f"{connections} connections paired")
print("| callback | runs per connection | ns per run | ns per connection |")
print("| --- | --: | --: | --: |")
for name, runs, per_run, per_connection in rows:
    print(f"| {name} | {runs:.2f} | {per_run:.0f} | {per_connection:.0f} |")
print(f"| total | {total_runs / connections:.2f} | {total_ns / total_runs:.0f} | {total_ns / connections:.0f} |")
PY
