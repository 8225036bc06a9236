"""Compare mutmut's results with the survivors the repository accepts (mutation/survivors.txt)
and fail on any other: a mutant of a security rule that no test kills is a rule that can be
broken unseen.

A line of survivors.txt is `MUTANT FINGERPRINT KIND REASON`: KIND is `equivalent` (no test
can tell it from the original; the reason says why), `message` (it changes only the
human-readable text of an error whose kind and code are pinned) or `open` (a known survivor,
still to be killed). The fingerprint is a hash of the mutated lines, so an entry still matches its mutant
when edits elsewhere in the function renumber mutmut's names.

Run from the repository root after `mutmut run` (make mutation does both). Prints the score
per module; exits 1 when a survivor is not listed, with a line to add after writing a test
or a reason. `--write` prints every survivor as a survivors.txt line instead.
"""

from __future__ import annotations

import hashlib
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
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
UNTESTED = {"survived", "no tests", "suspicious"}
KINDS = {"equivalent", "message", "open"}


def function_of(mutant: str) -> str:
    return re.sub(r"__mutmut_\d+$", "", mutant)


def module_of(mutant: str) -> str:
    return re.sub(r"\.x(ǁ.*|_.*)$", "", function_of(mutant))


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


def main() -> int:
    config()  # read [tool.mutmut] from pyproject.toml
    found = results()
    untested = {m: path for m, (status, path) in found.items() if status in UNTESTED}
    marks = {m: fingerprint(m, path) for m, path in sorted(untested.items())}
    if "--write" in sys.argv:
        for mutant, mark in marks.items():
            print(f"{mutant} {mark} open TODO")
        return 0
    accepted = listed()
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
    print(f"{'module':34} {'mutants':>7} {'killed':>6} {'equiv':>5} {'msg':>4} {'open':>4} "
          f"{'new':>4} {'unrun':>5} {'score':>6} {'w/ msg':>6}")
    for module, c in sorted(counts.items()):
        scored = c["mutants"] - c["equivalent"] - c["not checked"]
        strict = f"{100 * c['killed'] / scored:.1f}%" if scored else "-"
        scored -= c["message"]
        score = f"{100 * c['killed'] / scored:.1f}%" if scored else "-"
        print(f"{module:34} {c['mutants']:7} {c['killed']:6} {c['equivalent']:5} "
              f"{c['message']:4} {c['open']:4} {c['new']:4} {c['not checked']:5} {score:>6} "
              f"{strict:>6}")
    still = {key for key in accepted if key not in
             {(function_of(m), marks[m]) for m in marks}}
    for key in sorted(still):
        mutant, kind, _ = accepted[key]
        if mutant in found and found[mutant][0] != "not checked":
            print(f"killed now, remove from {LISTED.name}: {mutant} ({kind})")
    if new:
        print(f"\n{len(new)} surviving mutant(s) not in {LISTED}: kill each with a test, or "
              "list it as equivalent with the reason")
        for mutant in new:
            print(f"\n{mutant} {marks[mutant]} ({found[mutant][0]})")
            print(get_diff_for_mutant(mutant, path=found[mutant][1]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
