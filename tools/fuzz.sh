#!/usr/bin/env bash
# Coverage-guided fuzzing of BPFObject's ELF, BTF and object readers and the CO-RE resolver with libFuzzer.
#
#   tools/fuzz.sh                       build, then fuzz for 60 s
#   tools/fuzz.sh -max_total_time=3600  any libFuzzer flags are passed through
#   tools/fuzz.sh -runs=10000000
#   FUZZ_SANITIZE=fuzzer tools/fuzz.sh  without AddressSanitizer (faster)
#   FUZZ_BUILD_ONLY=1 tools/fuzz.sh     build .build-fuzz/fuzz-object-* and stop
#   tools/fuzz.sh FILE...               replay inputs (e.g. a crasher) instead of fuzzing
#
# The target is compiled straight from Sources/BPFObject/{ELF,BTF,Object,CORE}/*.swift (BPFObject
# takes bytes and has no dependency: the BPFLoader target, its C module and SystemPackage are not
# needed) plus tools/fuzz/*.swift, with -sanitize=fuzzer,address.
# Seeds: bpf/redir.o, every *.o under Tests/, and the .BTF section of each (as a raw BTF input).
# Working corpus: .build-fuzz/corpus (git-ignored). Crashes, OOMs and timeouts are written to
# Tests/BPFLoaderTests/Fixtures/crashers/ as hidden files (.crash-<sha1>, .oom-…, .timeout-…):
# SwiftPM skips hidden files, so they need no Package.swift entry and cause no "unhandled file"
# warning. The unit tests (CrasherReplayTests) replay every file there.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/.build-fuzz"
CORPUS="$OUT/corpus"
CRASHERS="$ROOT/Tests/BPFLoaderTests/Fixtures/crashers"
SWIFTC=${SWIFTC:-$(command -v swiftc || echo /opt/swift/usr/bin/swiftc)}
# FUZZ_SANITIZE=fuzzer runs about 3x faster; Swift's own bounds and overflow checks still trap.
SANITIZE=${FUZZ_SANITIZE:-fuzzer,address}
BIN="$OUT/fuzz-object-${SANITIZE//,/-}"

mkdir -p "$OUT" "$CORPUS" "$CRASHERS"
# Let libFuzzer, not the Swift runtime's backtracer, handle the trap, so it saves the input.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}

sources=()
for dir in ELF BTF Object CORE; do
    sources+=("$ROOT/Sources/BPFObject/$dir"/*.swift)
done
sources+=("$ROOT"/tools/fuzz/*.swift)

newest=$(ls -t "${sources[@]}" "$0" | head -1)
if [[ ! -x $BIN || $newest -nt $BIN ]]; then
    echo "fuzz.sh: compiling ${#sources[@]} files with -sanitize=$SANITIZE" >&2
    "$SWIFTC" -O -g -parse-as-library -module-name BPFObjectFuzz -package-name swift_sockmap \
        -sanitize="$SANITIZE" -swift-version 6 -use-ld=lld \
        "${sources[@]}" -o "$BIN"
fi
[[ ${FUZZ_BUILD_ONLY:-0} == 1 ]] && exit 0

# Replay mode: the arguments are input files.
if [[ $# -gt 0 && -f $1 ]]; then
    exec "$BIN" -rss_limit_mb=2048 "$@"
fi

# Seeds.
if [[ ! -f $ROOT/bpf/redir.o ]]; then
    echo "fuzz.sh: bpf/redir.o is missing: run \`make -C bpf\` first" >&2
    exit 1
fi
seeds=("$ROOT/bpf/redir.o")
while IFS= read -r -d '' f; do seeds+=("$f"); done < <(find "$ROOT/Tests" -name '*.o' -type f -print0)
for f in "${seeds[@]}"; do
    name=$(basename "$f" .o)-$(sha1sum "$f" | cut -c1-8)
    cp "$f" "$CORPUS/seed-$name.o"
    if command -v llvm-objcopy >/dev/null; then
        llvm-objcopy --dump-section ".BTF=$CORPUS/seed-$name.btf" "$f" /dev/null 2>/dev/null || true
    fi
done

# From .build-fuzz, so -jobs=N writes its fuzz-N.log files there rather than into the package.
cd "$OUT"
exec "$BIN" "$CORPUS" \
    -artifact_prefix="$CRASHERS/." \
    -print_final_stats=1 \
    -rss_limit_mb=2048 \
    -timeout=10 \
    "${@:--max_total_time=60}"
