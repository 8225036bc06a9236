"""Providers' own stores: records by local identifier, per dataset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from onceonly.services.ports.connectors import (
    ConnectorUnusable,
    ContractMismatch,
    ProviderFailure,
)


class FakeConnector:
    def __init__(self, dataset_id: str, records: dict[str, dict[str, Any]],
                 fetched: list[tuple[str, str, tuple[str, ...]]],
                 failure: ProviderFailure | None = None,
                 checked: list[tuple[str, tuple[str, ...]]] | None = None,
                 unusable: str | None = None) -> None:
        self.dataset_id, self.records, self.fetched = dataset_id, records, fetched
        self.failure = failure
        self.checked = checked if checked is not None else []
        self.unusable = unusable

    def fetch(self, local_id: str, fields: Sequence[str]) -> Mapping[str, Any] | None:
        self.fetched.append((self.dataset_id, local_id, tuple(fields)))
        return self._read(local_id, fields)

    def _read(self, local_id: str, fields: Sequence[str]) -> Mapping[str, Any] | None:
        if self.failure is not None:
            raise self.failure
        record = self.records.get(local_id)
        return None if record is None else {f: record.get(f) for f in fields}

    def check(self, fields: Sequence[str]) -> None:
        if self.failure is not None:
            raise ConnectorUnusable(self.failure.detail)
        if self.unusable is not None:
            raise ConnectorUnusable(self.unusable)
        self.checked.append((self.dataset_id, tuple(fields)))

    def write(self, local_id: str, field: str, value: Any) -> bool:
        if local_id not in self.records:
            return False
        self.records[local_id][field] = value
        return True


class FakeAsyncConnector(FakeConnector):
    """A connector whose reads are network I/O (as HTTP's): `fetch_async` is awaited."""

    async def fetch_async(self, local_id: str,
                          fields: Sequence[str]) -> Mapping[str, Any] | None:
        self.fetched.append(("async", local_id, tuple(fields)))
        return self._read(local_id, fields)


class FakeConnectors:
    """Each dataset's records; `fetched` lists every read, to show what was not read.
    `failure`: every read fails so (a provider's system failing); `asynchronous`: the
    connectors read as HTTP's do; `checked`: each connector tried at publication;
    `unusable`: dataset -> why its store cannot serve it; `contracts`: each OpenAPI document
    checked; `mismatch`: the field every contract check names as contradicted."""

    def __init__(self) -> None:
        self.stores: dict[str, dict[str, dict[str, Any]]] = {}
        self.fetched: list[tuple[str, str, tuple[str, ...]]] = []
        self.failure: ProviderFailure | None = None
        self.asynchronous = False
        self.checked: list[tuple[str, tuple[str, ...]]] = []
        self.unusable: dict[str, str] = {}
        self.contracts: list[tuple[Mapping[str, Any], dict[str, str]]] = []
        self.mismatch: str | None = None

    def add(self, dataset_id: str, local_id: str, **record: Any) -> None:
        self.stores.setdefault(dataset_id, {})[local_id] = record

    def for_dataset(self, dataset_id: str, config: Mapping[str, Any]) -> FakeConnector:
        if config.get("kind") not in ("fake", "sql", "http"):
            raise ValueError(f"dataset {dataset_id}: no connector for kind {config.get('kind')!r}")
        kind = FakeAsyncConnector if self.asynchronous else FakeConnector
        return kind(dataset_id, self.stores.setdefault(dataset_id, {}), self.fetched,
                    self.failure, self.checked, self.unusable.get(dataset_id))

    def check_contract(self, config: Mapping[str, Any], document: Mapping[str, Any],
                       field_types: Mapping[str, str]) -> None:
        self.contracts.append((document, dict(field_types)))
        if self.mismatch is not None:
            raise ContractMismatch(self.mismatch, "the document says otherwise")
