"""Principals (officers, guardians, citizens...) and their API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from onceonly.domain.organisations import Principal, TokenHolder
from onceonly.services.ports.audit import AuditUnitOfWork
from onceonly.services.ports.catalogue import CatalogueRepository
from onceonly.services.ports.identity import PersonIndex


class Principals(Protocol):
    def holder(self, digest: str) -> TokenHolder | None:
        """The token with this digest as it stands (its holder, whether revoked, disabled,
        their organisation's status), whatever its state; None if unknown."""
        ...
    def get(self, principal_id: str) -> Principal | None: ...
    def add(self, principal: Principal, created_by: str | None = None) -> None: ...
    def add_token(self, digest: str, principal_id: str, issued_at: datetime,
                  expires_at: datetime) -> None: ...


class PrincipalsUnitOfWork(AuditUnitOfWork, Protocol):
    """Who is calling (auth.authenticate), and the refusal of whoever is not."""

    @property
    def principals(self) -> Principals: ...


class TokensUnitOfWork(PrincipalsUnitOfWork, Protocol):
    """Issuing principals and their tokens."""

    @property
    def catalogue(self) -> CatalogueRepository: ...
    @property
    def people(self) -> PersonIndex: ...
