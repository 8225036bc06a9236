"""One feature, one name in every layer: each module of the ports, the database adapters,
the API's routes and schemas, the fakes and the service tests is named after a use case
module in services/ (or is one of the few shared pieces listed here), and each use case
on the composition root's Exchange is the field named after its module."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import onceonly
from onceonly.bootstrap import Exchange

SOURCE = Path(onceonly.__file__).parent
TESTS = Path(__file__).parents[1]
FEATURES = {p.stem for p in (SOURCE / "services").glob("*.py")} - {"__init__"}
# What is not one feature's: shared ports, the database's own machinery, the API's shared
# routes and schemas, the fakes' shared data; and the storage named for what it holds
# (data_keys: the keys feature's data keys; releases: the queries' releases and usage;
# walkthrough_reads: the demo walkthrough's reads of which connector answered and of whom it
# harvests; audit_leaves: the audit log's whole-log reader, beside audit.py for size;
# doorbell: the delivery port's Doorbell across processes, named as its in-process twin,
# adapters/doorbell.py; principals, unit_of_work: the shared ports of those names;
# writer_queue: SQLite's writers' queue in this process).
SHARED = {
    "services/ports": {"clock", "connectors", "principals", "unit_of_work"},
    "adapters/db": {"audit_leaves", "backup", "data_keys", "doorbell", "driver", "engine",
                    "group_commit", "mappers", "migrate", "principals", "releases", "tables",
                    "unit_of_work", "walkthrough_reads", "writer_queue"},
    "entrypoints/api/routes": {"operations"},
    "entrypoints/api/schemas": {"common", "problems"},
}


def misnamed(folder: Path, shared: set[str], prefix: str = "") -> list[str]:
    return sorted(str(p.relative_to(folder.parent)) for p in folder.glob(f"{prefix}*.py")
                  if p.stem != "__init__" and p.stem.removeprefix(prefix) not in FEATURES
                  and p.stem.removeprefix(prefix) not in shared)


def test_each_layers_modules_are_named_after_a_feature():
    found = [name for folder, shared in SHARED.items()
             for name in misnamed(SOURCE / folder, shared)]
    found += misnamed(TESTS / "fakes", SHARED["services/ports"] | {"data"})
    found += misnamed(TESTS / "unit" / "services", set(), prefix="test_")
    assert not found, f"modules not named after a use case in services/: {found}"


def test_each_use_case_on_the_exchange_is_named_after_its_module():
    hints = typing.get_type_hints(Exchange)
    found = [f"{field.name}: {hints[field.name].__module__}"
             for field in dataclasses.fields(Exchange)
             if hints[field.name].__module__.startswith("onceonly.services.")
             and hints[field.name].__module__.rsplit(".", 1)[1] != field.name
             and not hints[field.name].__module__.startswith("onceonly.services.ports.")]
    assert not found, f"use cases on the Exchange named otherwise than their module: {found}"
