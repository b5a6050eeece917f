#!/usr/bin/env python3
"""Mutation testing of the security-critical lines (tests/mutation/mutations.txt).

Copies the working tree to a scratch directory, builds it once (unoptimised, to
build fast), checks that every named test passes unmutated, then for each
mutation: applies it to the scratch copy, rebuilds only the test's target, runs
only the named tests, and restores the file. A mutation the tests do not catch
survives, and the run fails.

  run_mutations.py [--check] [--only NAME[,NAME...]] [--scratch DIR]

--check only confirms that every mutation still applies to the source (each
`find` occurs exactly once); CTest runs that, so a refactoring that moves a
line is told to update the list rather than silently dropping a mutation.
"""

import argparse
import concurrent.futures
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIST = os.path.join(ROOT, "tests", "mutation", "mutations.txt")
TEST_TIMEOUT_S = 600


@dataclass
class Mutation:
    name: str
    line: int
    what: str = ""
    file: str = ""
    pairs: list = field(default_factory=list)  # [(find, replace)]
    tests: list = field(default_factory=list)  # [argv], binary relative to the build dir

    @property
    def targets(self):
        return sorted({os.path.basename(t[0]) for t in self.tests})


def parse(path):
    mutations, current, pending_find = [], None, None
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line.startswith("[") and line.endswith("]"):
                current = Mutation(name=line[1:-1], line=number)
                mutations.append(current)
                pending_find = None
                continue
            key, sep, value = line.partition(": ")
            if current is None or not sep:
                sys.exit(f"{path}:{number}: expected [name] or 'key: value'")
            if key == "what":
                current.what = value
            elif key == "file":
                current.file = value
            elif key == "find":
                pending_find = value
            elif key == "replace":
                if pending_find is None:
                    sys.exit(f"{path}:{number}: replace without find")
                current.pairs.append((pending_find, value))
                pending_find = None
            elif key == "test":
                current.tests.append(shlex.split(value))
            else:
                sys.exit(f"{path}:{number}: unknown key '{key}'")
    names = set()
    for m in mutations:
        where = f"{path}:{m.line} [{m.name}]"
        if not (m.file and m.pairs and m.tests):
            sys.exit(f"{where}: needs file, find/replace and test")
        if m.name in names:
            sys.exit(f"{where}: the name is used twice")
        names.add(m.name)
    return mutations


def mutate(source, m):
    """The mutated text, or an error saying why the mutation no longer applies."""
    text = source
    for find, replace in m.pairs:
        count = text.count(find)
        if count != 1:
            return None, f"'{find}' occurs {count} times in {m.file} (needs exactly 1)"
        text = text.replace(find, replace)
    return text, None


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def write(path, text):
    # A fresh mtime, so that ninja rebuilds whatever depends on it.
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def check(mutations, root):
    problems = []
    for m in mutations:
        path = os.path.join(root, m.file)
        if not os.path.exists(path):
            problems.append(f"[{m.name}] {m.file} does not exist")
            continue
        _, error = mutate(read(path), m)
        if error:
            problems.append(f"[{m.name}] {error}")
    return problems


def sync(scratch_src):
    """Copies the working tree (tracked and untracked, not ignored) to scratch."""
    listed = subprocess.run(
        ["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True, capture_output=True).stdout.decode().split("\0")
    wanted = {p for p in listed if p and os.path.isfile(os.path.join(ROOT, p))}
    for rel in wanted:
        src, dst = os.path.join(ROOT, rel), os.path.join(scratch_src, rel)
        with open(src, "rb") as f:
            data = f.read()
        if os.path.exists(dst):
            with open(dst, "rb") as f:
                if f.read() == data:
                    continue  # unchanged: keep its mtime, so ninja keeps its objects
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as f:
            f.write(data)
        os.chmod(dst, os.stat(src).st_mode & 0o777)
    for dirpath, _, files in os.walk(scratch_src):
        for name in files:
            rel = os.path.relpath(os.path.join(dirpath, name), scratch_src)
            if rel not in wanted:
                os.remove(os.path.join(dirpath, name))


def run(argv, cwd, log, timeout=None):
    # A PostgreSQL test that cannot get its database fails rather than skips:
    # a skipped test would let its mutation "survive" for the wrong reason.
    env = dict(os.environ, SAFESHARE_REQUIRE_POSTGRES="1")
    with open(log, "w") as out:
        try:
            return subprocess.run(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=timeout, env=env).returncode
        except subprocess.TimeoutExpired:
            return "timeout"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only check that every mutation applies")
    parser.add_argument("--only", default="", help="comma-separated mutation names")
    parser.add_argument("--scratch", default=os.environ.get(
        "SAFESHARE_MUTATION_DIR", os.path.join(ROOT, "build-mutation")))
    args = parser.parse_args()

    mutations = parse(LIST)
    problems = check(mutations, ROOT)
    if problems:
        print("mutations that no longer apply (update tests/mutation/mutations.txt):")
        for p in problems:
            print("  " + p)
        return 1
    if args.check:
        print(f"{len(mutations)} mutations, each applies exactly once")
        return 0
    if args.only:
        chosen = set(args.only.split(","))
        unknown = chosen - {m.name for m in mutations}
        if unknown:
            sys.exit(f"unknown mutations: {', '.join(sorted(unknown))}")
        mutations = [m for m in mutations if m.name in chosen]

    src = os.path.join(args.scratch, "src")
    build = os.path.join(args.scratch, "build")
    logs = os.path.join(args.scratch, "logs")
    os.makedirs(src, exist_ok=True)
    os.makedirs(logs, exist_ok=True)
    started = time.monotonic()
    sync(src)
    if not os.path.exists(os.path.join(build, "build.ninja")):
        subprocess.run(["cmake", "-S", src, "-B", build, "-G", "Ninja",
                        "-DCMAKE_BUILD_TYPE=Debug", "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g0"],
                       check=True, stdout=subprocess.DEVNULL)
    targets = sorted({t for m in mutations for t in m.targets})
    print(f"building {len(targets)} targets in {build} ...", flush=True)
    if run(["ninja", "-C", build] + targets, ROOT, os.path.join(logs, "baseline-build.log")) != 0:
        print(f"the unmutated tree does not build: see {logs}/baseline-build.log")
        return 1

    # Every test must pass unmutated, or a failure proves nothing. Nothing is
    # mutated yet, so they run two at a time (as CTest runs them).
    baseline = sorted({tuple(t) for m in mutations for t in m.tests})

    def baseline_run(i_argv):
        i, argv = i_argv
        log = os.path.join(logs, f"baseline-{i}-" + argv[0].replace("/", "_") + ".log")
        return argv, log, run(list(argv), build, log, TEST_TIMEOUT_S)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for argv, log, rc in pool.map(baseline_run, enumerate(baseline)):
            if rc != 0:
                print(f"the unmutated tests fail ({' '.join(argv)}): see {log}")
                return 1
    print(f"baseline passes ({time.monotonic() - started:.0f} s); "
          f"{len(mutations)} mutations", flush=True)

    survived, broken = [], []
    for m in mutations:
        t0 = time.monotonic()
        path = os.path.join(src, m.file)
        pristine = read(path)
        mutated, error = mutate(pristine, m)
        if error:
            broken.append((m, error))
            continue
        try:
            write(path, mutated)
            log = os.path.join(logs, m.name + ".log")
            if run(["ninja", "-C", build] + m.targets, ROOT, log) != 0:
                verdict = "DOES NOT BUILD"
                broken.append((m, f"the mutated tree does not build: see {log}"))
            else:
                # Caught when any of its tests fails; the rest need not run.
                caught = any(run(t, build, log, TEST_TIMEOUT_S) != 0 for t in m.tests)
                verdict = "caught" if caught else "SURVIVED"
                if not caught:
                    survived.append(m)
        finally:
            write(path, pristine)
        print(f"  {verdict:15} {m.name:36} {time.monotonic() - t0:5.0f} s", flush=True)

    total = time.monotonic() - started
    print(f"{len(mutations) - len(survived) - len(broken)} of {len(mutations)} mutations caught "
          f"in {total:.0f} s")
    for m in survived:
        tests = "; ".join(" ".join(t) for t in m.tests)
        print(f"SURVIVED [{m.name}] {m.what}: {m.file}; tests: {tests}")
    for m, why in broken:
        print(f"BROKEN [{m.name}] {why}")
    print(f"{len(mutations) - len(survived) - len(broken)} passed, "
          f"{len(survived) + len(broken)} failed")
    return 1 if survived or broken else 0


if __name__ == "__main__":
    sys.exit(main())
