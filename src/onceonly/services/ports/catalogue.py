"""The catalogue: organisations and the datasets they offer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from onceonly.domain.catalogue import Dataset, DatasetVersion
from onceonly.domain.organisations import Organisation
from onceonly.services.ports.unit_of_work import UnitOfWork


class CatalogueRepository(Protocol):
    def organisation(self, org_id: str) -> Organisation | None: ...
    def organisations(self) -> list[Organisation]: ...
    def dataset(self, dataset_id: str) -> Dataset | None: ...
    def datasets(self) -> list[Dataset]: ...
    def versions(self) -> dict[str, list[DatasetVersion]]:
        """Each dataset's published versions, oldest first."""
        ...
    def connector_config(self, dataset_id: str) -> Mapping[str, Any]: ...


class CatalogueUnitOfWork(UnitOfWork, Protocol):
    catalogue: CatalogueRepository
