#!/usr/bin/env bash
# Runs inside a kernel-matrix guest (see tools/kernel-matrix.sh), as the guest's root with
# CI=true: prints the feature probe, then runs the test subset with a swift-testing event stream,
# between markers that tools/kernel-matrix-report.py reads from the console.
#   kernel-matrix-guest.sh PACKAGE_ROOT FILTER [CORE_FILTER]
set -u
root=$1
filter=$2
core_filter=${3:-}
cd "$root" || exit 1
cli=.build/debug/swift-sockmap

"$cli" probe --json >/tmp/probe.json
probe_status=$?
echo "matrix-probe-begin"
cat /tmp/probe.json
echo "matrix-probe-end $probe_status"
"$cli" probe
if [ "$probe_status" -ne 0 ]; then
    # `load` refuses on this kernel: only the probe tests run (they check the refusal itself), and
    # the loader's CO-RE tests, which need no accelerator.
    filter="KernelFeatureTests|ProbeCommandTests${core_filter:+|$core_filter}"
fi
.build/debug/swift-sockmapPackageTests.xctest --testing-library swift-testing --filter "$filter" \
    --event-stream-output-path /tmp/events.jsonl --event-stream-version 0 >/tmp/tests.log 2>&1
echo "matrix-tests-status $?"
echo "matrix-events-begin"
cat /tmp/events.jsonl
echo "matrix-events-end"
# The failures in the test's own words, for the console log.
grep -a -E '✘|↳' /tmp/tests.log | head -40
