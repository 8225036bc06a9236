"""Datasets as their providers publish them, version by version."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from onceonly.domain.agreements import Agreement
from onceonly.domain.catalogue import Dataset
from onceonly.services.ports.audit import AuditUnitOfWork
from onceonly.services.ports.catalogue import CatalogueRepository
from onceonly.services.ports.identity import NamingUnitOfWork


class Datasets(Protocol):
    def system_owner(self, system_id: str) -> str | None:
        """The organisation whose system it is; None if there is no such system."""
        ...
    def known_scheme(self, code: str) -> bool: ...
    def register_of(self, event_type: str) -> str | None:
        """The dataset that is the register of `event_type`, if any."""
        ...
    def agreements_on(self, dataset_id: str) -> list[Agreement]: ...
    def publish(self, dataset: Dataset, connector: Mapping[str, Any], at: datetime,
                by: str) -> bool:
        """Store `dataset` as its version `dataset.version` (1: a new dataset), if the
        version before it is still the current one; False if another was published first."""
        ...


class DatasetsUnitOfWork(AuditUnitOfWork, NamingUnitOfWork, Protocol):
    @property
    def datasets(self) -> Datasets: ...
    @property
    def catalogue(self) -> CatalogueRepository: ...
