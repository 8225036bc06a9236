"""Members of the exchange: organisations, their systems, the identifier schemes they name
people by, and each member's history (registered, suspended, resumed, deregistered)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from onceonly.domain.organisations import MemberStatus, Organisation, Scheme
from onceonly.services.ports.agreements import AgreementsUnitOfWork
from onceonly.services.ports.principals import Principals


@dataclass(frozen=True, slots=True)
class MemberEvent:
    org_id: str
    at: datetime
    action: str  # register, suspend, resume, deregister
    actor_id: str
    reason: str
    agreement_ids: tuple[int, ...] = ()


class Members(Protocol):
    def any(self) -> bool:
        """Whether the exchange has any organisation yet (it is initialised)."""
        ...
    def add(self, org: Organisation, at: datetime, *, operator: bool = False) -> None:
        """`operator`: the member that runs the exchange (one, set at initialisation)."""
        ...
    def operator(self) -> str | None:
        """The exchange's operator, once initialised."""
        ...
    def set_status(self, org_id: str, status: MemberStatus) -> None: ...
    def system_exists(self, system_id: str) -> bool: ...
    def add_system(self, system_id: str, org_id: str, title: str) -> None: ...
    def scheme(self, code: str) -> Scheme | None: ...
    def add_scheme(self, scheme: Scheme) -> None:
        """Store the scheme; its issuer names people by it."""
        ...
    def schemes(self) -> list[Scheme]: ...
    def names_people_by(self, org_id: str) -> list[str]:
        """The schemes the member names people by (its own and others')."""
        ...
    def name_people_by(self, org_id: str, code: str) -> None: ...
    def record(self, event: MemberEvent) -> None: ...
    def history(self, org_id: str) -> list[MemberEvent]:
        """The member's events, oldest first."""
        ...


class HostedKeys(Protocol):
    def add_hosted_key(self, org_id: str, now: datetime) -> str:
        """A new signing key the exchange holds for the organisation (its private half
        wrapped by the master key); its kid."""
        ...

    def unready(self) -> str | None:
        """Why a new key cannot be made now (the master key cannot be had), or None."""
        ...


class TreeHeads(Protocol):
    def integrate(self) -> object:
        """Sign a tree head over every audit entry appended so far (the empty tree's, on a
        new exchange)."""
        ...


class MembersUnitOfWork(AgreementsUnitOfWork, Protocol):
    @property
    def members(self) -> Members: ...
    @property
    def principals(self) -> Principals: ...

