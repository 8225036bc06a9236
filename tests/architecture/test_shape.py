"""The shape of the code, checked on its text: no function over 60 lines without a reason,
and every source directory a package (import-linter sees only packages, so the import
contracts of `make test` would silently skip one that is not)."""

from __future__ import annotations

import ast
from pathlib import Path

import onceonly

SOURCE = Path(onceonly.__file__).parent
LIMIT = 60
MARK = "# long:"
# Alembic loads its scripts by path: they are not a package. A migration is frozen history,
# one schema step each, so its length is not held against it either.
MIGRATIONS = SOURCE / "adapters" / "db" / "migrations"


def long_functions_without_a_reason() -> list[str]:
    """Functions longer than LIMIT lines (def to last line) with no `# long: why` comment on
    their def line or the line just above it (or above their decorators)."""
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        if path.is_relative_to(MIGRATIONS):
            continue
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines), filename=str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = node.end_lineno - node.lineno + 1
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            near = {lines[node.lineno - 1], lines[max(node.lineno - 2, 0)],
                    lines[max(first - 2, 0)]}
            if length > LIMIT and not any(MARK in line for line in near):
                found.append(f"{path.relative_to(SOURCE.parent)}:{node.lineno} "
                             f"{node.name} ({length} lines)")
    return found


def test_no_function_is_over_60_lines_without_a_reason():
    offenders = long_functions_without_a_reason()
    assert not offenders, (
        f"{len(offenders)} function(s) over {LIMIT} lines: split each, or say why it is one "
        f"piece in a '{MARK} ...' comment on its def line or just above:\n"
        + "\n".join(offenders))


def test_every_source_directory_is_a_package():
    missing = [str(folder.relative_to(SOURCE.parent)) for folder in sorted(SOURCE.rglob("*"))
               if folder.is_dir() and any(folder.glob("*.py"))
               and not (folder / "__init__.py").exists()
               and not folder.is_relative_to(MIGRATIONS)]
    assert not missing, f"directories of Python modules without an __init__.py: {missing}"
