"""Providers' own stores: records by local identifier, per dataset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from onceonly.services.ports.connectors import ConnectorUnusable


class FakeConnector:
    def __init__(self, dataset_id: str, records: dict[str, dict[str, Any]],
                 fetched: list[tuple[str, str, tuple[str, ...]]],
                 checked: list[tuple[str, tuple[str, ...]]] | None = None,
                 unusable: str | None = None) -> None:
        self.dataset_id, self.records, self.fetched = dataset_id, records, fetched
        self.checked = checked if checked is not None else []
        self.unusable = unusable

    def fetch(self, local_id: str, fields: Sequence[str]) -> Mapping[str, Any] | None:
        self.fetched.append((self.dataset_id, local_id, tuple(fields)))
        record = self.records.get(local_id)
        return None if record is None else {f: record.get(f) for f in fields}

    def check(self, fields: Sequence[str]) -> None:
        if self.unusable is not None:
            raise ConnectorUnusable(self.unusable)
        self.checked.append((self.dataset_id, tuple(fields)))

    def write(self, local_id: str, field: str, value: Any) -> bool:
        if local_id not in self.records:
            return False
        self.records[local_id][field] = value
        return True


class FakeConnectors:
    """Each dataset's records; `fetched` lists every read, to show what was not read."""

    def __init__(self) -> None:
        self.stores: dict[str, dict[str, dict[str, Any]]] = {}
        self.fetched: list[tuple[str, str, tuple[str, ...]]] = []
        self.checked: list[tuple[str, tuple[str, ...]]] = []  # each connector tried
        self.unusable: dict[str, str] = {}  # dataset -> why its store cannot serve it

    def add(self, dataset_id: str, local_id: str, **record: Any) -> None:
        self.stores.setdefault(dataset_id, {})[local_id] = record

    def for_dataset(self, dataset_id: str, config: Mapping[str, Any]) -> FakeConnector:
        if config.get("kind") not in ("fake", "sql"):
            raise ValueError(f"dataset {dataset_id}: no connector for kind {config.get('kind')!r}")
        return FakeConnector(dataset_id, self.stores.setdefault(dataset_id, {}), self.fetched,
                             self.checked, self.unusable.get(dataset_id))
