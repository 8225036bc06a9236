"""Bulk extracts: many people's fields under one agreement, approved first."""

from __future__ import annotations

from typing import Protocol

from onceonly.domain.bulk import BulkExtract
from onceonly.services.ports.agreements import AgreementRepository
from onceonly.services.ports.audit import AuditUnitOfWork
from onceonly.services.ports.consents import ConsentCheckUnitOfWork
from onceonly.services.ports.identity import NamingUnitOfWork


class BulkExtracts(Protocol):
    def add(self, extract: BulkExtract) -> BulkExtract: ...
    def get(self, extract_id: int) -> BulkExtract | None: ...
    def save(self, extract: BulkExtract, was: str) -> None:
        """Write the new state if the extract is still in state `was`."""
        ...


class BulkUnitOfWork(NamingUnitOfWork, ConsentCheckUnitOfWork, AuditUnitOfWork, Protocol):
    @property
    def agreements(self) -> AgreementRepository: ...
    @property
    def bulk(self) -> BulkExtracts: ...
