#!/usr/bin/env bash
# Builds a release swift-sockmap with the Swift runtime and Foundation linked in
# (--static-swift-stdlib; the data path is embedded), packages it with the man page, the shell
# completions and the systemd unit, and checks the package: the binary is run from another
# directory with no Swift toolchain on PATH or in the library path, and ldd must list no Swift
# library. As root, the check also loads the embedded data path into a scratch cgroup and
# detaches it again.
#   tools/package.sh [OUTPUT-DIR]       (default: dist/)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)

swift build -c release --static-swift-stdlib --product swift-sockmap >&2
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)/swift-sockmap

version=$(git describe --always --dirty 2>/dev/null || echo dev)
name=swift-sockmap-$version-linux-$(uname -m)
stage=$(mktemp -d)
check=$(mktemp -d)
trap 'rm -rf "$stage" "$check"' EXIT
mkdir -p "$stage/$name/completions"
install -m 755 "$bin" "$stage/$name/swift-sockmap"
strip "$stage/$name/swift-sockmap" 2>/dev/null || true
install -m 644 docs/swift-sockmap.1 "$stage/$name/"
install -m 644 docs/completions/* "$stage/$name/completions/"
install -m 644 tools/deploy/swift-sockmap.service "$stage/$name/"
install -m 644 README.md "$stage/$name/"
tar -C "$stage" -czf "$out/$name.tar.gz" "$name"
echo "wrote $out/$name.tar.gz ($(du -h "$out/$name.tar.gz" | cut -f1))" >&2

# The check: unpack elsewhere, run without the toolchain.
tar -C "$check" -xzf "$out/$name.tar.gz"
cd "$check/$name"
if ldd ./swift-sockmap | grep -E 'libswift|libFoundation|libdispatch|libBlocksRuntime|/opt/swift'; then
    echo "package check failed: the binary needs Swift libraries (above)" >&2
    exit 1
fi
env -i PATH=/usr/bin:/bin ./swift-sockmap --help | grep -q 'USAGE: swift-sockmap' \
    || { echo "package check failed: swift-sockmap --help" >&2; exit 1; }
env -i PATH=/usr/bin:/bin ./swift-sockmap load --help | grep -q -- '--map' \
    || { echo "package check failed: swift-sockmap load --help" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then
    pins=/sys/fs/bpf/package-check-$$
    cg=package-check-$$
    env -i PATH=/usr/bin:/bin ./swift-sockmap load --cgroup "$cg" --pin-dir "$pins" >/dev/null
    env -i PATH=/usr/bin:/bin ./swift-sockmap status --pin-dir "$pins" | grep -q 'object:    embedded bpf/redir.c (sha256 ' \
        || { ./swift-sockmap detach --pin-dir "$pins"; echo "package check failed: status after load" >&2; exit 1; }
    env -i PATH=/usr/bin:/bin ./swift-sockmap detach --pin-dir "$pins" >/dev/null
    echo "package check: the packaged binary loaded and detached the embedded data path" >&2
fi
echo "package check: runs from $check/$name with no Swift toolchain; ldd lists no Swift library" >&2
