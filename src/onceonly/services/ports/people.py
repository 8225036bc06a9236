"""People: those an organisation names (its identifiers of them; the demo prints a few to
try; the demo loads them in bulk), and those who act for it (its staff and service
accounts, kept by its administrator)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from onceonly.domain.organisations import Principal, Training
from onceonly.services.ports.principals import TokensUnitOfWork


class PersonIdentifiers(Protocol):
    def schemes_of(self, org_id: str) -> list[str]:
        """The identifier schemes the organisation names people by."""
        ...

    def identifiers(self, schemes: Sequence[str], limit: int) -> list[tuple[str, str]]:
        """Up to `limit` (scheme, value) pairs the person index links, in order."""
        ...



@dataclass(frozen=True, slots=True)
class StaffMember:
    """Someone who acts for an organisation (or a service account, acting as one of its
    systems), as their organisation's administrator sees them."""

    principal: Principal
    disabled_at: datetime | None
    training: Training | None
    live_tokens: int


class Staff(Protocol):
    def of_org(self, org_id: str, now: datetime) -> list[StaffMember]:
        """Everyone of the organisation but citizens, by id."""
        ...
    def disable(self, principal_id: str, at: datetime) -> bool:
        """Disable them (False if they were already); their tokens and sessions stop."""
        ...
    def revoke_tokens(self, principal_id: str, at: datetime) -> int:
        """Revoke every live token of theirs; how many."""
        ...
    def training(self, principal_id: str) -> Training | None: ...
    def set_training(self, principal_id: str, training: Training, by: str,
                     at: datetime) -> None: ...


class PeopleUnitOfWork(TokensUnitOfWork, Protocol):
    @property
    def staff(self) -> Staff: ...


class Links(Protocol):
    def add(self, values: Mapping[str, object]) -> None:
        """One link: `scheme`, `value` and the `person_key` it names."""
        ...

    def flush(self) -> None:
        """Write the links added so far, in one transaction."""
        ...


class PersonIndexLoad(Protocol):
    def loading(self) -> AbstractContextManager[Links]:
        """Links to add; the index is whole again when the block ends."""
        ...
