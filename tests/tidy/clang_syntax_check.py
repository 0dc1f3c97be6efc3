#!/usr/bin/env python3
"""Compiles the production code (every wal/ source in a build's compile_commands.json) with
clang++ -fsyntax-only and fails on any warning or error.

Why clang beside GCC: GCC 12 does not warn when the [[nodiscard]] result of a call under
co_await is dropped (`co_await store.put(...);` with the Status ignored); clang does
(-Wunused-result). Syntax only: no object code, so it costs a fraction of a build.

    clang_syntax_check.py BUILD_DIR SOURCE_DIR [--jobs N] [--clang clang++] [--only TEXT]

Exit 0: clean; 1: clang reported something (printed, per file); 2: usage or setup error
(no compile_commands.json, no clang++).
"""
import argparse
import concurrent.futures
import json
import os
import shlex
import shutil
import subprocess
import sys
import time

# GCC-only options of the build that clang does not know, and the object output.
GCC_ONLY = {"-Wno-maybe-uninitialized", "-Wno-restrict", "-fcoroutines"}


def clang_command(entry, clang):
    """The entry's compile command, turned into a clang++ syntax check."""
    args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    out = [clang, "-fsyntax-only", "-Wunused-result", "-Werror"]
    skip_next = False
    first = 2 if os.path.basename(args[0]) == "ccache" else 1  # skip the compiler (and ccache)
    for arg in args[first:]:
        if skip_next:
            skip_next = False
            continue
        if arg in ("-o", "-MF", "-MT", "-MQ"):
            skip_next = True
            continue
        if arg in ("-c", "-MD", "-MMD") or arg in GCC_ONLY:
            continue
        out.append(arg)
    return out


def check(entry, clang):
    command = clang_command(entry, clang)
    done = subprocess.run(command, cwd=entry["directory"], capture_output=True, text=True)
    return entry["file"], done.returncode, done.stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir")
    parser.add_argument("source_dir")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--clang", default="clang++")
    parser.add_argument("--only", default="", help="check only the files whose path contains this")
    options = parser.parse_args()
    database = os.path.join(options.build_dir, "compile_commands.json")
    if not os.path.exists(database):
        print(f"clang_syntax_check: no {database}: configure the build first", file=sys.stderr)
        return 2
    if shutil.which(options.clang) is None:
        print(f"clang_syntax_check: {options.clang} not found (scripts/install-deps.sh installs "
              "clang)", file=sys.stderr)
        return 2
    production = os.path.join(os.path.realpath(options.source_dir), "wal") + os.sep
    with open(database) as f:
        entries = [e for e in json.load(f) if os.path.realpath(e["file"]).startswith(production)
                   and options.only in e["file"]]
    if not entries:
        print(f"clang_syntax_check: no source under {production} in {database}", file=sys.stderr)
        return 2
    started = time.monotonic()
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
        for path, code, stderr in pool.map(lambda e: check(e, options.clang), entries):
            if code != 0 or stderr.strip():
                failed += 1
                print(f"--- {os.path.relpath(path, options.source_dir)}\n{stderr}", end="")
    seconds = time.monotonic() - started
    print(f"clang_syntax_check: {len(entries)} files, {failed} with diagnostics, {seconds:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
