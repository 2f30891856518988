#!/usr/bin/env bash
# Builds the package (debug) and writes the symbol graphs of its modules' public API
# (`swift package dump-symbol-graph`); prints the directory that holds them, one
# MODULE.symbols.json per module. Used by tools/docs.sh and tools/check-docs.py.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(swift package dump-symbol-graph --minimum-access-level public 2>&1) || { printf '%s\n' "$log" >&2; exit 1; }
dir=$(printf '%s\n' "$log" | sed -n 's/^Files written to //p' | tail -n 1)
if [ ! -d "$dir" ]; then
    printf '%s\n' "$log" >&2
    echo "tools/symbol-graphs.sh: swift package dump-symbol-graph named no output directory" >&2
    exit 1
fi
echo "$dir"
