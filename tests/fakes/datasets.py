"""Datasets as published, version by version, over the fake data."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from onceonly.domain.agreements import Agreement
from onceonly.domain.catalogue import Dataset
from tests.fakes.data import FakeData


class FakeDatasets:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def system_owner(self, system_id: str) -> str | None:
        return next((o.id for o in self.data.organisations.values()
                     if system_id in o.systems), None)

    def known_scheme(self, code: str) -> bool:
        return code in self.data.schemes

    def register_of(self, event_type: str) -> str | None:
        return next((d.id for d in self.data.datasets.values()
                     if d.event_type == event_type), None)

    def agreements_on(self, dataset_id: str) -> list[Agreement]:
        return [a for a in self.data.agreements.values() if a.dataset_id == dataset_id]

    def publish(self, dataset: Dataset, connector: Mapping[str, Any], at: datetime,
                by: str) -> bool:
        current = self.data.datasets.get(dataset.id)
        if (current.version if current else 0) != dataset.version - 1:
            return False
        self.data.datasets[dataset.id] = dataset
        self.data.connectors[dataset.id] = dict(connector)
        self.data.published.append((dataset, at, by))
        return True
