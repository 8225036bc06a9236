"""Data-sharing agreements."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from onceonly.domain.agreements import Agreement
from onceonly.services.ports.audit import AuditUnitOfWork
from onceonly.services.ports.catalogue import CatalogueRepository


@dataclass(frozen=True, slots=True)
class AgreementSource:
    """An agreement with what a query needs of its dataset: the identifier scheme the
    provider knows people by, and the connector config of the provider's store."""

    agreement: Agreement
    subject_scheme: str
    connector: Mapping[str, Any]
    labels: Mapping[str, str] = field(default_factory=dict)  # each field's source label
    queries_today: int = 0  # releases counted on the day asked for, if one was
    # The standing version read in the same statement (None: the store keeps none).
    standing: int | None = None


@dataclass(frozen=True, slots=True)
class DayUsage:
    """An agreement's releases counted on a day, and the standing version read with them:
    while it has not moved, no principal, agreement or dataset has changed."""

    queries_today: int
    standing: int | None


class AgreementRepository(Protocol):
    def get(self, agreement_id: int, *, with_history: bool = False) -> Agreement | None: ...
    def get_each(self, agreement_ids: Collection[int]) -> dict[int, Agreement]:
        """Those of the agreements that exist (without history), in one read."""
        ...
    def with_source(self, agreement_id: int, day: date | None = None
                    ) -> AgreementSource | None:
        """The agreement (without history) and its dataset's subject scheme and connector;
        with `day`, the releases counted that day too, in one read, and the standing
        version with them."""
        ...
    def usage(self, agreement_id: int, day: date) -> DayUsage:
        """The day's count and the standing version, in one read (a query's only read of
        the agreement while the version has not moved)."""
        ...
    def add(self, agreement: Agreement) -> int: ...
    def save(self, agreement: Agreement) -> None:
        """Persist a transition; raises a conflict if someone else moved it first."""
        ...
    def list_for(self, org_id: str | None) -> list[Agreement]: ...


class AgreementsUnitOfWork(AuditUnitOfWork, Protocol):
    @property
    def agreements(self) -> AgreementRepository: ...
    @property
    def catalogue(self) -> CatalogueRepository: ...
