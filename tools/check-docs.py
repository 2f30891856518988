#!/usr/bin/env python3
"""Lists every public symbol of the libraries BPFObject, BPFLoader and SockmapAccelerator that
has no doc comment, as FILE:LINE: KIND NAME, and exits 1 if there is any.

It reads the symbol graphs of tools/symbol-graphs.sh (which builds the package first), or those
already in DIR with --graphs DIR. A symbol counts when it is declared in Sources/MODULE/
(members the compiler synthesizes, such as hashValue, have no place there and are left out). A
member that implements a protocol requirement and has no comment of its own inherits the
requirement's (`description`, `rawValue`): that counts as documented, and the summary says how
many did. --summary prints only the counts.
"""

import argparse
import glob
import json
import os
import subprocess
import sys

MODULES = ["BPFObject", "BPFLoader", "SockmapAccelerator"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def symbol_graph_directory():
    result = subprocess.run([os.path.join(ROOT, "tools", "symbol-graphs.sh")], stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        sys.exit(result.returncode)
    return result.stdout.strip()


def declared_symbols(directory, module):
    """The module's symbols declared in its own source folder, with the path of their file."""
    files = glob.glob(os.path.join(directory, f"{module}.symbols.json"))
    files += glob.glob(os.path.join(directory, f"{module}@*.symbols.json"))  # extensions of other modules' types
    if not files:
        sys.exit(f"tools/check-docs.py: no symbol graph for {module} in {directory}")
    prefix = os.path.join(ROOT, "Sources", module) + os.sep
    for path in files:
        with open(path) as file:
            graph = json.load(file)
        for symbol in graph["symbols"]:
            uri = symbol.get("location", {}).get("uri", "")
            source = uri.removeprefix("file://")
            if source.startswith(prefix):
                yield symbol, os.path.relpath(source, ROOT)


def has_own_text(comment):
    return any(line.get("text", "").strip() for line in comment.get("lines", []))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", metavar="DIR", help="read the symbol graphs in DIR instead of building them")
    parser.add_argument("--summary", action="store_true", help="print only the counts")
    arguments = parser.parse_args()
    directory = arguments.graphs or symbol_graph_directory()

    missing = []
    for module in MODULES:
        total = inherited = 0
        seen = set()
        for symbol, source in declared_symbols(directory, module):
            if symbol["identifier"]["precise"] in seen:
                continue
            seen.add(symbol["identifier"]["precise"])
            total += 1
            comment = symbol.get("docComment")
            if comment and has_own_text(comment):
                if comment.get("module", module) != module:
                    inherited += 1
                continue
            line = symbol["location"]["position"]["line"] + 1
            kind = symbol["kind"]["identifier"].removeprefix("swift.")
            missing.append((source, line, kind, ".".join(symbol["pathComponents"]), module))
        undocumented = sum(1 for entry in missing if entry[4] == module)
        print(f"{module}: {total} public symbols, {undocumented} without a doc comment"
              f" ({inherited} inherit theirs from a protocol requirement)")
    if not arguments.summary:
        for source, line, kind, name, _ in sorted(missing):
            print(f"{source}:{line}: {kind} {name}")
    if missing:
        print(f"tools/check-docs.py: {len(missing)} public symbols without a `///` doc comment", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
