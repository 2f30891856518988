#!/usr/bin/env bash
# Builds the API documentation of the three libraries into one DocC archive,
# .build/docs/swift-sockmap.doccarchive (or DIR with --output DIR), with the toolchain's docc
# and no package plugin: the symbol graphs of tools/symbol-graphs.sh, one `docc convert` per
# module with its catalog (Sources/MODULE/MODULE.docc; BPFLoader links to BPFObject's archive,
# SockmapAccelerator to both) and `docc merge`. Fails on any DocC warning (a link to a symbol
# that does not exist, a documented parameter the function does not have) and when the code of
# the article "Loading an object and attaching a program" is not the compiled example it is
# copied from. To browse:
#   python3 -m http.server -d .build/docs/swift-sockmap.doccarchive 8000
# then open http://localhost:8000/documentation/bpfloader
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/docs
if [ "${1:-}" = --output ]; then out=$2; fi

docc=$(command -v docc || echo "$(dirname "$(readlink -f "$(command -v swift)")")/docc")
example=Tests/LoaderFidelityTests/LoadingAndAttachingExample.swift
article=Sources/BPFLoader/BPFLoader.docc/LoadingAndAttaching.md
if ! diff -u --label "$example" --label "$article" \
        <(awk '/\/\/ docs:begin LoadingAndAttaching/ { on = 1; next } /\/\/ docs:end LoadingAndAttaching/ { on = 0 } on' "$example") \
        <(awk '/^```swift$/ { on = 1; next } /^```$/ { on = 0 } on' "$article"); then
    echo "tools/docs.sh: the article's code is not the compiled example: copy the lines between the docs: markers of $example into $article" >&2
    exit 1
fi

graphs=$(tools/symbol-graphs.sh)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# convert MODULE [DEPENDENCY...]: MODULE's archive, linking to the archives of its dependencies.
convert() {
    local module=$1
    shift
    mkdir -p "$work/graphs/$module"
    cp "$graphs/$module.symbols.json" "$work/graphs/$module/"
    local arguments=(--additional-symbol-graph-dir "$work/graphs/$module" --output-path "$work/$module.doccarchive"
        --fallback-display-name "$module" --fallback-bundle-identifier "$module"
        --enable-experimental-external-link-support --warnings-as-errors)
    if [ -d "Sources/$module/$module.docc" ]; then arguments=("Sources/$module/$module.docc" "${arguments[@]}"); fi
    for dependency in "$@"; do arguments+=(--dependency "$work/$dependency.doccarchive"); done
    "$docc" convert "${arguments[@]}" >&2
}
convert BPFObject
convert BPFLoader BPFObject
convert SockmapAccelerator BPFObject BPFLoader

mkdir -p "$out"
rm -rf "$out/swift-sockmap.doccarchive"
"$docc" merge "$work/BPFObject.doccarchive" "$work/BPFLoader.doccarchive" "$work/SockmapAccelerator.doccarchive" \
    --synthesized-landing-page-name swift-sockmap --output-path "$out/swift-sockmap.doccarchive" >&2
echo "wrote $out/swift-sockmap.doccarchive" >&2
