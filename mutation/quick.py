"""The mutation step of `make test`: mutation-test only the modules that changed.

mutation/checked.json records, for every mutated module that last passed mutation/check.py,
a hash of its source and of each fast test file that reaches it (with the test helpers those
import). A module is due when it is not recorded or one of those files differs. Due modules
are run through mutmut and checked as `make mutation` would; the step fails when a mutant
survives that mutation/survivors.txt does not list, and on success records them, so commit
mutation/checked.json with the change. With nothing due it takes a second; from a fresh
clone (no mutants/ directory) mutmut first runs the fast tests once to map them.

`python mutation/quick.py onceonly.audit onceonly.crypto` looks only at modules under those
names. Not followed: tests/conftest.py (the unit tests of mutated modules use none of its fixtures
but the master key file) and data files read by tests; `make mutation` runs everything.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from check import CHECKED, STATS, file_hash, module_of_path
from mutmut.configuration import config
from mutmut.utils.file_utils import walk_mutatable_files


def has_functions(path: Path) -> bool:
    """mutmut mutates only functions: a module without one has no mutant to run."""
    return any(isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
               for node in ast.walk(ast.parse(path.read_text())))


def due(checked: dict, under: list[str]) -> list[tuple[str, Path]]:
    found = []
    for path in sorted(walk_mutatable_files()):
        module = module_of_path(path)
        if under and not any(module == u or module.startswith(u + ".") for u in under):
            continue
        entry = checked.get(module)
        if (entry is None or entry["hash"] != file_hash(path)
                or any(file_hash(Path(t)) != h for t, h in entry["tests"].items())):
            found.append((module, path))
    return found


def forget(modules: list[tuple[str, Path]]) -> None:
    """Drop mutmut's cached results of the due modules and its map of tests, so each of their
    mutants runs again against today's tests (mutmut keeps the results of a function whose
    source did not change, even when its tests did)."""
    for _, path in modules:
        for suffix in ("", ".meta", ".spans"):
            (Path("mutants") / f"{path}{suffix}").unlink(missing_ok=True)
    STATS.unlink(missing_ok=True)


def main() -> int:
    config()  # read [tool.mutmut] from pyproject.toml
    checked = json.loads(CHECKED.read_text()) if CHECKED.exists() else {}
    modules = due(checked, sys.argv[1:])
    if not modules:
        print(f"mutation: {len(checked)} module(s) unchanged since their last check")
        return 0
    print("mutation: changed since their last check:", ", ".join(m for m, _ in modules))
    names = [f"{module}.x*" for module, path in modules if has_functions(path)]
    if names:
        forget(modules)
        jobs = os.environ.get("MUTATION_JOBS", "1")
        run = subprocess.run(["nice", "-n", "19", sys.executable, "-m", "mutmut", "run",
                              "--max-children", jobs, *names])
        if run.returncode:
            return run.returncode
    return subprocess.run([sys.executable, str(Path(__file__).with_name("check.py")),
                           "--record", "--modules", ",".join(m for m, _ in modules)]).returncode


if __name__ == "__main__":
    sys.exit(main())
