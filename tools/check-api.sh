#!/usr/bin/env bash
# Fails when the public API of the library products (BPFObject, BPFLoader, SockmapAccelerator)
# breaks against the baseline commit in .ci/api-baseline: `swift package
# diagnose-api-breaking-changes`, which checks the baseline out and builds it under
# .build/<triple>/apidiff (a full debug build: about 2 minutes; the baseline's API is kept in
# .build/api-baseline for the next run).
#
# An intended break: say so in the commit that makes it with a line "API break: <what and why>",
# then set .ci/api-baseline to that commit in the commit right after it (the tree is compared
# with the baseline, so the baseline must already hold the break).
# The baseline must be in this clone's history: a shallow clone fetches it from origin (as tag
# api-baseline).
set -euo pipefail
cd "$(dirname "$0")/.."

baseline=$(tr -d '[:space:]' < .ci/api-baseline)
if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
    # SwiftPM checks the baseline out of a `git clone --shared` of this repository, which sees
    # only commits reachable from a ref: fetch it under one.
    echo "tools/check-api.sh: shallow clone: fetching the API baseline $baseline from origin" >&2
    git fetch --quiet --depth=1 origin "+$baseline:refs/tags/api-baseline" || true
fi
if ! git cat-file -e "$baseline^{commit}" 2>/dev/null; then
    echo "tools/check-api.sh: the API baseline $baseline (.ci/api-baseline) is not in this clone;" \
        "clone with full history (git clone without --depth) or fetch it: git fetch origin $baseline" >&2
    exit 1
fi

echo "API check against $(git log -1 --format='%h %s' "$baseline" | cut -c1-100)" >&2
swift package diagnose-api-breaking-changes "$baseline" --products BPFObject BPFLoader SockmapAccelerator \
    --baseline-dir .build/api-baseline
