"""Only the database adapters write the exchange's tables: everything else changes the
exchange through its use cases. Two scans hold the code to it: which modules may import the
tables at all (the database adapters, the migrations, and a short list of known others that
may only shrink), and no SQL text outside the adapters that inserts, updates or deletes rows
of an exchange table. `onceonly apply` (declarative/) imports no adapter at all."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from onceonly.adapters.db import tables

SRC = Path(__file__).parents[2] / "src" / "onceonly"
DB = SRC / "adapters" / "db"
TABLES = {table.name for table in tables.metadata.sorted_tables}
TABLES_MODULE = "onceonly.adapters.db.tables"

# Modules outside adapters/db that still import the tables, and why. Nothing may be added;
# each goes once what it does moves behind a use case or into adapters/db.
KNOWN = {
    "demo/stores.py": "reads the datasets' connectors and the person index (no write)",
    "entrypoints/demo/walkthrough/audit_trail.py": "copies the audit log to show tampering found",
    "adapters/keystore.py": "the hosted signing keys",
    "adapters/request_signatures.py": "the signed requests' nonces",
    "adapters/match_sources.py": "reads records for identity matching",
}

WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?", re.IGNORECASE)


def _outside_db() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if DB not in p.parents]


def _is_tables(module: str | None) -> bool:
    """The tables package or one of its feature modules (tables/audit.py, ...)."""
    return module is not None and (module == TABLES_MODULE
                                   or module.startswith(TABLES_MODULE + "."))


def imports_tables(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(_is_tables(a.name) for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (
                _is_tables(node.module)
                or (node.module == "onceonly.adapters.db"
                    and any(a.name == "tables" for a in node.names))):
            return True
    return False


def sql_writes(tree: ast.AST) -> set[str]:
    """The exchange tables that SQL text in the module inserts into, updates or deletes."""
    return {match.group(1).lower() for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            for match in WRITE.finditer(node.value)
            if match.group(1).lower() in TABLES}


def test_only_the_database_adapters_import_the_exchanges_tables() -> None:
    found = {str(p.relative_to(SRC)) for p in _outside_db()
             if imports_tables(ast.parse(p.read_text(), str(p)))}
    assert found <= KNOWN.keys(), (
        f"{sorted(found - KNOWN.keys())} import the exchange's tables: change the exchange "
        "through a use case, or write the SQL in adapters/db")


def test_no_sql_text_outside_the_database_adapters_writes_an_exchange_table() -> None:
    found = {str(p.relative_to(SRC)): writes for p in _outside_db()
             if (writes := sql_writes(ast.parse(p.read_text(), str(p))))}
    assert found == {}, f"SQL writing the exchange's tables outside adapters/db: {found}"


def test_apply_goes_through_the_use_cases() -> None:
    imported = {alias for p in (SRC / "declarative").rglob("*.py")
                for node in ast.walk(ast.parse(p.read_text()))
                if isinstance(node, ast.ImportFrom) and node.module
                for alias in [node.module]}
    assert not {m for m in imported if m.startswith("onceonly.adapters")}, imported


def test_the_scans_find_a_write() -> None:
    assert imports_tables(ast.parse("from onceonly.adapters.db import tables as t"))
    assert imports_tables(ast.parse("from onceonly.adapters.db.tables import principals"))
    assert imports_tables(ast.parse("from onceonly.adapters.db.tables.audit import audit_log"))
    assert imports_tables(ast.parse("import onceonly.adapters.db.tables.members"))
    assert not imports_tables(ast.parse("from onceonly.adapters.db.tablesque import x"))
    assert not imports_tables(ast.parse("from onceonly.adapters.db import engine"))
    assert sql_writes(ast.parse("x = 'INSERT INTO principals (id) VALUES (1)'")) == {
        "principals"}
    assert sql_writes(ast.parse("x = 'update \"agreements\" set status = 1'")) == {
        "agreements"}
    assert sql_writes(ast.parse("x = 'DELETE FROM my_own_table'")) == set()
