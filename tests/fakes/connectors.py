"""Providers' own stores: records by local identifier, per dataset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class FakeConnector:
    def __init__(self, dataset_id: str, records: dict[str, dict[str, Any]],
                 fetched: list[tuple[str, str, tuple[str, ...]]]) -> None:
        self.dataset_id, self.records, self.fetched = dataset_id, records, fetched

    def fetch(self, local_id: str, fields: Sequence[str]) -> Mapping[str, Any] | None:
        self.fetched.append((self.dataset_id, local_id, tuple(fields)))
        record = self.records.get(local_id)
        return None if record is None else {f: record.get(f) for f in fields}

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

    def add(self, dataset_id: str, local_id: str, **record: Any) -> None:
        self.stores.setdefault(dataset_id, {})[local_id] = record

    def for_dataset(self, dataset_id: str, config: Mapping[str, Any]) -> FakeConnector:
        return FakeConnector(dataset_id, self.stores.setdefault(dataset_id, {}), self.fetched)
