"""The catalogue: organisations and datasets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from onceonly.domain.catalogue import Dataset, DatasetVersion
from onceonly.domain.organisations import Organisation
from tests.fakes.data import FakeData


class FakeCatalogue:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def organisation(self, org_id: str) -> Organisation | None:
        return self.data.organisations.get(org_id)

    def organisations(self) -> list[Organisation]:
        return [o for _, o in sorted(self.data.organisations.items())]

    def dataset(self, dataset_id: str) -> Dataset | None:
        return self.data.datasets.get(dataset_id)

    def datasets(self) -> list[Dataset]:
        return [d for _, d in sorted(self.data.datasets.items())]

    def versions(self) -> dict[str, list[DatasetVersion]]:
        return {d.id: [DatasetVersion(d.version, d.title, tuple(f.name for f in d.fields),
                                      d.offers, None, "")] for d in self.datasets()}

    def connector_config(self, dataset_id: str) -> Mapping[str, Any]:
        return self.data.connectors[dataset_id]
