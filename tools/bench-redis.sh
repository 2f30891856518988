#!/usr/bin/env bash
# Redis GET across network namespaces: plain TCP over a bridge vs accelerated, side by side.
#
#   sudo tools/bench-redis.sh            # 5 rounds of 50,000 GETs per mode and client count
#   ROUNDS=3 REQUESTS=20000 sudo tools/bench-redis.sh
#
# Makes two "containers" (network namespaces 10.214.0.1 and 10.214.0.2, joined by veths to a
# bridge in a third namespace; the addresses exist only there), then loads swift-sockmap on a
# cgroup of its own (after the namespaces exist, so `load` counts their addresses as this host's).
# Two redis-server instances run in the server namespace: one outside the cgroup (plain, port
# 6379), one inside (accelerated, port 6380); redis-benchmark runs from the client namespace,
# outside or inside the cgroup. Each round runs every mode once, the order alternating; the
# report gives medians of requests/s and the median of per-round ratios. The same is done in
# one namespace over loopback for reference. Needs redis-server and redis-tools (Debian). The
# report goes to stdout and results/redis-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench-redis.sh: run as root (namespaces, cgroups, BPF)" >&2; exit 1; }
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || {
    echo "bench-redis.sh: needs redis-server and redis-benchmark: apt-get install redis-server redis-tools" >&2; exit 1; }

rounds=${ROUNDS:-5}
requests=${REQUESTS:-50000}
scratch=${SCRATCH_PATH:-.build}
swift build -c release --scratch-path "$scratch" --product swift-sockmap >&2
cli=$(swift build -c release --scratch-path "$scratch" --show-bin-path)/swift-sockmap

tag=rb-$$
host=$tag-h client=$tag-c1 server=$tag-c2
pins=/sys/fs/bpf/redis-bench-$$
cgroup=redis-bench-$$
work=$(mktemp -d)
cleanup() {
    set +e
    for pid in $(cat "$work"/*.pid 2>/dev/null); do kill "$pid" 2>/dev/null; done
    sleep 0.2
    "$cli" detach --pin-dir "$pins" >/dev/null 2>&1
    for ns in "$client" "$server" "$host"; do ip netns delete "$ns" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

for ns in "$host" "$client" "$server"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n "$host" link add br0 type bridge && ip -n "$host" link set br0 up
n=0
for pair in "$client:10.214.0.1" "$server:10.214.0.2"; do
    n=$((n + 1)); ns=${pair%%:*}; address=${pair#*:}
    ip -n "$host" link add "veth$n" type veth peer name eth0 netns "$ns"
    ip -n "$host" link set "veth$n" master br0 up
    ip -n "$ns" addr add "$address/24" dev eth0 && ip -n "$ns" link set eth0 up
done
"$cli" load --cgroup "$cgroup" --pin-dir "$pins" >&2
cgroup_path=$("$cli" status --pin-dir "$pins" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"]["cgroup"])')

# start NAME PORT NETNS INSIDE(yes/no): a redis-server without persistence.
start() {
    local name=$1 port=$2 ns=$3 inside=$4 bind=$5
    local cmd=(ip netns exec "$ns" redis-server --port "$port" --bind "$bind" --save "" --appendonly no --daemonize no
               --protected-mode no --logfile "$work/$name.log")
    if [ "$inside" = yes ]; then "$cli" run --pin-dir "$pins" -- "${cmd[@]}" & else "${cmd[@]}" & fi
    echo $! >"$work/$name.pid"
    for _ in $(seq 100); do ip netns exec "$ns" redis-cli -h "$bind" -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
    echo "bench-redis.sh: redis-server $name did not start: $(cat "$work/$name.log")" >&2; exit 1
}
start bridge-plain 6379 "$server" no 10.214.0.2
start bridge-accelerated 6380 "$server" yes 10.214.0.2
start local-plain 6381 "$client" no 127.0.0.1
start local-accelerated 6382 "$client" yes 127.0.0.1

# rate MODE CLIENTS: GET requests per second of one redis-benchmark run.
rate() {
    local mode=$1 clients=$2 port target inside=no
    case $mode in
        bridge-plain) port=6379 target=10.214.0.2 ;;
        bridge-accelerated) port=6380 target=10.214.0.2 inside=yes ;;
        local-plain) port=6381 target=127.0.0.1 ;;
        local-accelerated) port=6382 target=127.0.0.1 inside=yes ;;
    esac
    local cmd=(ip netns exec "$client" redis-benchmark -h "$target" -p "$port" -t get -n "$requests" -c "$clients" -q)
    local out
    if [ "$inside" = yes ]; then out=$("$cli" run --pin-dir "$pins" -- "${cmd[@]}" 2>/dev/null); else out=$("${cmd[@]}" 2>/dev/null); fi
    echo "$out" | tr '\r' '\n' | awk '/^GET:/ { print $2 }' | tail -1
}

modes=(bridge-plain bridge-accelerated local-plain local-accelerated)
results=$work/results
: >"$results"
for round in $(seq "$rounds"); do
    for clients in 1 50; do
        order=("${modes[@]}")
        if [ $((round % 2)) -eq 0 ]; then order=(bridge-accelerated bridge-plain local-accelerated local-plain); fi
        line="[round $round/$rounds] $clients client(s):"
        for mode in "${order[@]}"; do
            value=$(rate "$mode" "$clients")
            echo "$round $clients $mode $value" >>"$results"
            line="$line $mode $value"
        done
        echo "$line" >&2
    done
done
counters=$("$cli" status --pin-dir "$pins" --json | python3 -c 'import json,sys; c=json.load(sys.stdin)["counters"]; print(c["messagesRedirected"], c["socketsPaired"])')

mkdir -p results
out=results/redis-$(date -u +%Y%m%d-%H%M%S).md
python3 - "$results" "$counters" "$requests" "$(uname -r)" >"$out" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if len(line.split()) == 4]
redirected, paired = sys.argv[2].split()
data = {}
for round_, clients, mode, value in rows:
    data.setdefault((int(clients), mode), {})[int(round_)] = float(value)
def ratio(clients, a, b):
    x, y = data[(clients, a)], data[(clients, b)]
    return statistics.median(x[r] / y[r] for r in x if r in y and y[r] > 0)
print(f"# Redis GET across network namespaces (kernel {sys.argv[4]})\n")
print(f"redis-benchmark -t get -n {sys.argv[3]}, medians of {len({r for r, *_ in rows})} rounds run side by side; "
      f"during the run sockmap redirected {redirected} messages and paired {paired} connections.\n")
print("| clients | bridge plain (req/s) | bridge accelerated | accelerated/plain over the bridge | loopback plain | loopback accelerated | accelerated/plain on loopback | bridge accelerated/loopback accelerated |")
print("|--:|--:|--:|--:|--:|--:|--:|--:|")
for clients in sorted({c for c, _ in data}):
    med = lambda m: statistics.median(data[(clients, m)].values())
    print(f"| {clients} | {med('bridge-plain'):.0f} | {med('bridge-accelerated'):.0f} | {ratio(clients, 'bridge-accelerated', 'bridge-plain'):.2f}× "
          f"| {med('local-plain'):.0f} | {med('local-accelerated'):.0f} | {ratio(clients, 'local-accelerated', 'local-plain'):.2f}× "
          f"| {ratio(clients, 'bridge-accelerated', 'local-accelerated'):.2f}× |")
EOF
cat "$out"
echo "bench-redis.sh: wrote $out" >&2
