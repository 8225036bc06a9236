"""Compare mutmut's results with the survivors the repository accepts (mutation/survivors.txt)
and fail on any other: a mutant of a security rule that no test kills is a rule that can be
broken unseen.

A line of survivors.txt is `MUTANT FINGERPRINT KIND REASON`: KIND is `equivalent` (no test
can tell it from the original; the reason says why), `message` (it changes only the
human-readable text of an error whose kind and code are pinned) or `open` (a known survivor,
still to be killed). The fingerprint is a hash of the mutated lines, so an entry still matches
its mutant when edits elsewhere in the function renumber mutmut's names.

Run from the repository root after `mutmut run` (make mutation does both). Prints the score
per module and per package; exits 1 when a survivor is not listed, with a line to add after
writing a test or a reason, or when domain/ or audit/ scores under the target. `--write`
prints every survivor as a survivors.txt line instead; `--modules A,B` checks those modules
alone; `--record` writes what passed to mutation/checked.json (see quick.py).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from mutmut.configuration import config
from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files

LISTED = Path(__file__).with_name("survivors.txt")
CHECKED = Path(__file__).with_name("checked.json")
STATS = Path("mutants/mutmut-stats.json")
# The target: >= 95% of non-equivalent mutants killed in these packages, where
# non-equivalent leaves out the `equivalent` and `message` survivors (docs/mutation.md).
TARGET = {"onceonly.domain": 95.0, "onceonly.audit": 95.0}
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
UNTESTED = {"survived", "no tests", "suspicious"}
KINDS = {"equivalent", "message", "open"}


def function_of(mutant: str) -> str:
    return re.sub(r"__mutmut_\d+$", "", mutant)


def module_of(mutant: str) -> str:
    return re.sub(r"\.x(ǁ.*|_.*)$", "", function_of(mutant))


def module_of_path(path: Path) -> str:
    parts = path.with_suffix("").parts
    parts = parts[parts.index("src") + 1:] if "src" in parts else parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def file_hash(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else None


def fingerprint(mutant: str, path: Path) -> str:
    changed = [line[1:].strip() for line in get_diff_for_mutant(mutant, path=path).splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return hashlib.sha256("\n".join(changed).encode()).hexdigest()[:12]


def results() -> dict[str, tuple[str, Path]]:
    found = {}
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for mutant, code in data.exit_code_by_key.items():
            found[mutant] = (status_by_exit_code[code], path)
    return found


def listed() -> dict[tuple[str, str], tuple[str, str, str]]:
    entries = {}
    for number, line in enumerate(LISTED.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        mutant, mark, kind, reason = (line.split(maxsplit=3) + ["", "", ""])[:4]
        if kind not in KINDS or not reason:
            sys.exit(f"{LISTED}:{number}: expected MUTANT FINGERPRINT "
                     f"{'|'.join(sorted(KINDS))} REASON")
        entries[(function_of(mutant), mark)] = (mutant, kind, reason)
    return entries


def tally(found, marks, accepted) -> tuple[dict[str, Counter[str]], list[str]]:
    """Each module's mutants by outcome, and the survivors survivors.txt does not list."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    new = []
    for mutant, (status, _) in found.items():
        module = counts[module_of(mutant)]
        module["mutants"] += 1
        if status in KILLED:
            module["killed"] += 1
        elif status == "not checked":
            module["not checked"] += 1
        else:
            entry = accepted.get((function_of(mutant), marks[mutant]))
            if entry is None:
                new.append(mutant)
                module["new"] += 1
            else:
                module[entry[1]] += 1
    return counts, new


def score(c: Counter[str], *, messages_count: bool = False) -> str:
    scored = c["mutants"] - c["equivalent"] - c["not checked"]
    if not messages_count:
        scored -= c["message"]
    return f"{100 * c['killed'] / scored:.1f}%" if scored else "-"


def report(counts: dict[str, Counter[str]]) -> list[str]:
    """Print the table; return the packages under their target."""
    print(f"{'module':34} {'mutants':>7} {'killed':>6} {'equiv':>5} {'msg':>4} {'open':>4} "
          f"{'new':>4} {'unrun':>5} {'score':>6} {'w/ msg':>6}")
    packages: dict[str, Counter[str]] = defaultdict(Counter)
    for module, c in sorted(counts.items()):
        packages[".".join(module.split(".")[:2])].update(c)
        print(f"{module:34} {c['mutants']:7} {c['killed']:6} {c['equivalent']:5} "
              f"{c['message']:4} {c['open']:4} {c['new']:4} {c['not checked']:5} "
              f"{score(c):>6} {score(c, messages_count=True):>6}")
    under = []
    for package, c in sorted(packages.items()):
        print(f"{package + '/ (all)':34} {c['mutants']:7} {c['killed']:6} {c['equivalent']:5} "
              f"{c['message']:4} {c['open']:4} {c['new']:4} {c['not checked']:5} "
              f"{score(c):>6} {score(c, messages_count=True):>6}")
        target = TARGET.get(package)
        value = score(c)
        if target is not None and value != "-" and float(value[:-1]) < target:
            under.append(f"{package}: {value} of non-equivalent mutants killed, under the "
                         f"target of {target:.0f}%")
    return under


def record(modules: set[str], counts: dict[str, Counter[str]]) -> None:
    """Write to checked.json, for each module whose every mutant ran and passed the check,
    the hash of its source and of the fast tests that reach it (from mutmut's stats), so the
    quick step knows what has not changed since."""
    checked = json.loads(CHECKED.read_text()) if CHECKED.exists() else {}
    tests_by_function = (json.loads(STATS.read_text())["tests_by_mangled_function_name"]
                         if STATS.exists() else {})
    tests: dict[str, set[str]] = defaultdict(set)
    for function, ids in tests_by_function.items():
        tests[module_of(function)] |= {test.split("::")[0] for test in ids}
    for path in walk_mutatable_files():
        module = module_of_path(path)
        c = counts.get(module, Counter())
        if module not in modules or c["not checked"] or c["new"]:
            continue
        followed = set(tests[module])
        for test in list(followed):
            followed |= helpers_of(Path(test))
        checked[module] = {"source": str(path), "hash": file_hash(path),
                           "tests": {test: file_hash(Path(test)) for test in sorted(followed)}}
    CHECKED.write_text(json.dumps(dict(sorted(checked.items())), indent=1) + "\n")


def helpers_of(test: Path) -> set[str]:
    """The test support modules (tests.*) a test file imports, whose change can change it."""
    found: set[str] = set()
    if not test.is_file():
        return found
    for node in ast.walk(ast.parse(test.read_text())):
        names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module
                 else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
        for name in names:
            if name.startswith("tests."):
                path = Path(*name.split("."))
                for candidate in (path.with_suffix(".py"), path / "__init__.py"):
                    if candidate.is_file():
                        found.add(str(candidate))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--modules", default="", help="comma-separated; all when empty")
    args = parser.parse_args()
    config()  # read [tool.mutmut] from pyproject.toml
    wanted = {m for m in args.modules.split(",") if m}
    found = {m: r for m, r in results().items() if not wanted or module_of(m) in wanted}
    untested = {m: path for m, (status, path) in found.items() if status in UNTESTED}
    marks = {m: fingerprint(m, path) for m, path in sorted(untested.items())}
    if args.write:
        for mutant, mark in marks.items():
            print(f"{mutant} {mark} open TODO")
        return 0
    accepted = listed()
    counts, new = tally(found, marks, accepted)
    under = report(counts)
    still = {key for key in accepted if key not in
             {(function_of(m), marks[m]) for m in marks}}
    for key in sorted(still):
        mutant, kind, _ = accepted[key]
        # a time-out under load is no proof: only a failing test is
        if mutant in found and found[mutant][0] == "killed":
            print(f"killed now, remove from {LISTED.name}: {mutant} ({kind})")
    if args.record and not new and not under:
        record(wanted or {module_of_path(p) for p in walk_mutatable_files()}, counts)
    for line in under:
        print(line)
    if new:
        print(f"\n{len(new)} surviving mutant(s) not in {LISTED}: kill each with a test "
              "(tests/unit), or list it (the line below) as equivalent with the reason why no "
              "test can tell it from the original; see docs/mutation.md")
        for mutant in new:
            print(f"\n{mutant} {marks[mutant]} ({found[mutant][0]})")
            print(get_diff_for_mutant(mutant, path=found[mutant][1]))
    return 1 if new or under else 0


if __name__ == "__main__":
    sys.exit(main())
