"""The public keys organisations register themselves (they keep the private halves)."""

from __future__ import annotations

from typing import Protocol

from onceonly.domain.org_keys import OrgKey
from onceonly.services.ports.audit import AuditUnitOfWork
from onceonly.services.ports.catalogue import CatalogueRepository


class OrgKeys(Protocol):
    def get(self, kid: str) -> OrgKey | None: ...
    def kid_taken(self, kid: str) -> bool:
        """Whether `kid` names a key already: registered, or hosted by the exchange."""
        ...
    def add(self, key: OrgKey) -> None: ...
    def retire(self, key: OrgKey) -> bool:
        """Write the key's retirement if it was not retired meanwhile; False if it was."""
        ...
    def list_for(self, org_id: str) -> list[OrgKey]: ...
    def hosted_for(self, org_id: str) -> list[tuple[str, bool]]:
        """The keys the exchange holds for the organisation: (kid, active)."""
        ...


class OrgKeysUnitOfWork(AuditUnitOfWork, Protocol):
    @property
    def org_keys(self) -> OrgKeys: ...
    @property
    def catalogue(self) -> CatalogueRepository: ...
