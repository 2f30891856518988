#!/usr/bin/env python3
"""Reads the console logs of tools/kernel-matrix.sh's guests and prints the kernel x test table.

usage: kernel-matrix-report.py CACHE_DIR SUITE...

Each guest console holds the `swift-sockmap probe --json` output and a swift-testing event stream
between markers (tools/kernel-matrix-guest.sh). A cell is pass, FAIL, or skipped with the reason;
on a kernel that `load` refuses, the accelerator tests are skipped with the refusal. Exit status 1
when any test failed or a guest gave no results.
"""
import json
import os
import sys


def between(lines, begin, end):
    """The lines after the line starting with `begin` up to the one starting with `end`."""
    out, inside = [], False
    for line in lines:
        if line.startswith(begin):
            inside = True
            continue
        if inside and line.startswith(end):
            return out, line
        if inside:
            out.append(line)
    return (out if inside else None), None


def short_name(test_id):
    """'Module.KernelIntegration/DataPathTests/redirected(family:)/File.swift:25:10' -> 'DataPathTests/redirected'."""
    parts = [p for p in test_id.split("/") if ".swift:" not in p]
    return "/".join(p.split("(")[0] for p in parts[-2:])


def read_guest(path):
    """(probe report or None, {test: (status, reason)}, error or None) for one console log."""
    if not os.path.exists(path):
        return None, {}, "no console log"
    lines = [l.rstrip("\r\n") for l in open(path, encoding="utf-8", errors="replace")]
    probe_lines, _ = between(lines, "matrix-probe-begin", "matrix-probe-end")
    probe = None
    if probe_lines:
        try:
            probe = json.loads("\n".join(probe_lines))
        except json.JSONDecodeError:
            probe = None
    event_lines, closed = between(lines, "matrix-events-begin", "matrix-events-end")
    if event_lines is None or closed is None:
        return probe, {}, "the guest ended before the tests did (timeout or crash); see the console log"
    functions, started, ended, skipped, issues = {}, set(), set(), {}, {}
    for line in event_lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a console line split by kernel output
        payload = record.get("payload", {})
        if record.get("kind") == "test" and payload.get("kind") == "function":
            functions[payload["id"]] = short_name(payload["id"])
            continue
        kind, test = payload.get("kind"), payload.get("testID")
        messages = " ".join(m.get("text", "") for m in payload.get("messages", []))
        if kind == "testStarted":
            started.add(test)
        elif kind == "testEnded":
            ended.add(test)
        elif kind == "testSkipped":
            skipped[test] = messages or "skipped"
        elif kind == "issueRecorded" and test:
            issues.setdefault(test, messages)
    results = {}
    for test_id, name in functions.items():
        if test_id in skipped:
            results[name] = ("skip", skipped[test_id])
        elif test_id in issues:
            results[name] = ("FAIL", issues[test_id])
        elif test_id in ended:
            results[name] = ("pass", "")
        elif test_id in started:
            results[name] = ("FAIL", "no result (crash or timeout)")
    return probe, results, None


def main():
    cache, suites = sys.argv[1], sys.argv[2:]
    guests = {}
    for suite in suites:
        release = open(os.path.join(cache, suite, "release")).read().strip()
        seconds_path = os.path.join(cache, suite, "seconds")
        seconds = open(seconds_path).read().strip() if os.path.exists(seconds_path) else "?"
        guests[suite] = (release, seconds) + read_guest(os.path.join(cache, suite, "console.log"))
    tests = []
    for _, _, _, results, _ in guests.values():
        tests += [t for t in results if t not in tests]
    footnotes, failed = [], False
    header = ["test"] + [f"{s} {g[0].split('-')[0].split('+')[0]}" for s, g in guests.items()]
    rows = []
    for test in tests:
        row = [test]
        for suite, (release, seconds, probe, results, error) in guests.items():
            status, reason = results.get(test, (None, None))
            if status is None:
                if probe is not None and not probe.get("loadable", True):
                    status, reason = "skip", "load refused: " + probe.get("refusal", "")
                else:
                    status, reason = "FAIL", error or "did not run"
            if status == "FAIL":
                failed = True
            if reason:
                if reason not in footnotes:
                    footnotes.append(reason)
                status += f" [{footnotes.index(reason) + 1}]"
            row.append(status)
        rows.append(row)
    for suite, (release, seconds, probe, results, error) in guests.items():
        if error and not results:
            failed = True
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
    print()
    for suite, (release, seconds, probe, results, error) in guests.items():
        missing = [f["feature"] for f in (probe or {}).get("features", []) if not f["supported"]]
        verdict = "no probe output" if probe is None else ("loads" if probe.get("loadable") else "refused")
        print(f"{suite}: Linux {release}, {seconds} s boot + tests, {verdict}; missing features: {', '.join(missing) or 'none'}"
              + (f"; {error}" if error else ""))
    for number, reason in enumerate(footnotes, 1):
        print(f"[{number}] {reason}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
