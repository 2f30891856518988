#!/usr/bin/env bash
# Regenerates the man page and the shell completion scripts in docs/ from the argument parser.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/completions
swift package plugin generate-manual >&2
cp .build/plugins/GenerateManual/outputs/swift-sockmap/swift-sockmap.1 docs/swift-sockmap.1
swift build --product swift-sockmap >&2
bin=$(swift build --show-bin-path)/swift-sockmap
"$bin" --generate-completion-script bash > docs/completions/swift-sockmap.bash
"$bin" --generate-completion-script zsh > docs/completions/_swift-sockmap
"$bin" --generate-completion-script fish > docs/completions/swift-sockmap.fish
echo "wrote docs/swift-sockmap.1 and docs/completions/" >&2
