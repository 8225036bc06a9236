"""The ports the use cases need. Adapters implement them; tests pass real ones or fakes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from onceonly.audit.entries import AuditEntry, AuditRecord
from onceonly.audit.heads import SignedTreeHead
from onceonly.audit.merkle import Node
from onceonly.domain.agreements import Agreement
from onceonly.domain.catalogue import Dataset
from onceonly.domain.kill_switch import KillSwitch
from onceonly.domain.organisations import Organisation, Principal
from onceonly.domain.policy import Reason


class Clock(Protocol):
    def now(self) -> datetime: ...


class AuditLog(Protocol):
    def record(self, entry: AuditEntry, at: datetime) -> int:
        """Append an entry within the current unit of work; return its index in the log.
        Indexes are dense and in commit order: appends queue until the unit of work ends."""
        ...
    def size(self) -> int: ...
    def entries(self, start: int, stop: int) -> list[AuditRecord]:
        """Entries [start, stop) by index."""
        ...
    def entry(self, index: int) -> AuditRecord | None: ...
    def search(self, search: AuditSearch) -> list[AuditRecord]:
        """Newest first."""
        ...


@dataclass(frozen=True, slots=True)
class AuditSearch:
    """Which entries to list, newest first; None means any."""

    limit: int
    before: int | None = None  # only entries with a smaller index (the next page)
    provider_id: str | None = None
    org_id: str | None = None
    actor_id: str | None = None
    person_key: str | None = None
    actions: tuple[str, ...] = ()
    revealed_at: datetime | None = None  # leave out entries still hidden at this time


class AuditTree(Protocol):
    """The Merkle tree's stored perfect-subtree hashes and its signed heads."""

    def lock(self) -> None:
        """Hold the right to integrate until the unit of work ends (one integrator at a time)."""
        ...
    def read(self, nodes: Sequence[Node]) -> dict[Node, bytes]: ...
    def leaves(self, start: int, stop: int) -> dict[int, bytes]:
        """The stored leaf hashes of entries [start, stop), by index."""
        ...
    def add_nodes(self, nodes: Mapping[Node, bytes]) -> None: ...
    def add_head(self, head: SignedTreeHead) -> None: ...
    def latest_head(self) -> SignedTreeHead | None: ...
    def heads(self) -> list[SignedTreeHead]:
        """Every signed head, smallest first."""
        ...


class Secrets(Protocol):
    def get(self, name: str) -> bytes:
        """A secret the exchange generated for itself (e.g. the officer-pseudonym key)."""
        ...


@dataclass(frozen=True, slots=True)
class AgreementSource:
    """An agreement with what a query needs of its dataset: the identifier scheme the
    provider knows people by, and the connector config of the provider's store."""

    agreement: Agreement
    subject_scheme: str
    connector: Mapping[str, Any]


class AgreementRepository(Protocol):
    def get(self, agreement_id: int, *, with_history: bool = False) -> Agreement | None: ...
    def with_source(self, agreement_id: int) -> AgreementSource | None:
        """The agreement (without history) and its dataset's subject scheme and connector."""
        ...
    def add(self, agreement: Agreement) -> int: ...
    def save(self, agreement: Agreement) -> None:
        """Persist a transition; raises a conflict if someone else moved it first."""
        ...
    def list_for(self, org_id: str | None) -> list[Agreement]: ...


class CatalogueRepository(Protocol):
    def organisation(self, org_id: str) -> Organisation | None: ...
    def organisations(self) -> list[Organisation]: ...
    def dataset(self, dataset_id: str) -> Dataset | None: ...
    def datasets(self) -> list[Dataset]: ...
    def connector_config(self, dataset_id: str) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class ResolvedSubject:
    person_key: str
    provider_value: str | None  # the provider's own identifier for the person, if it has one


class PersonIndex(Protocol):
    def known_scheme(self, scheme: str) -> bool: ...
    def person_key(self, scheme: str, value: str) -> str | None: ...
    def resolve(self, scheme: str, value: str, target_scheme: str) -> ResolvedSubject | None: ...


class Principals(Protocol):
    def by_token_digest(self, digest: str, now: datetime) -> Principal | None:
        """The principal holding a live token with this digest, else None."""
        ...
    def token_state(self, digest: str, now: datetime) -> str:
        """'live', 'expired', 'revoked' or 'unknown': why a token was refused."""
        ...
    def add(self, principal: Principal) -> None: ...
    def add_token(self, digest: str, principal_id: str, issued_at: datetime,
                  expires_at: datetime) -> None: ...


class Usage(Protocol):
    def queries_on(self, agreement_id: int, day: date) -> int: ...
    def reserve(self, agreement: Agreement, day: date, person_key: str | None) -> Reason | None:
        """Atomically count one more release against the agreement's limits: queries a day,
        distinct people a day, uses in all. None if counted; else the limit reached, and the
        unit of work must not be committed."""
        ...


class KillSwitches(Protocol):
    def add(self, switch: KillSwitch) -> KillSwitch:
        """Store a new switch; return it with its id."""
        ...
    def get(self, switch_id: int) -> KillSwitch | None: ...
    def restored(self, switch: KillSwitch) -> None: ...
    def list_for(self, provider_id: str) -> list[KillSwitch]: ...


class UnitOfWork(Protocol):
    agreements: AgreementRepository
    catalogue: CatalogueRepository
    people: PersonIndex
    principals: Principals
    usage: Usage
    kill_switches: KillSwitches
    audit: AuditLog
    tree: AuditTree

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, write: bool = False, transaction: bool = True) -> UnitOfWork:
        """`transaction=False`: each read stands alone, for data that never changes once
        written (the Merkle tree), sparing a server database the round trips of a
        transaction."""
        ...


class ProviderConnector(Protocol):
    """Reads one person's fields from a provider's own store (SQL now; HTTP admits the same)."""

    def fetch(self, local_id: str, fields: Sequence[str]) -> Mapping[str, Any] | None: ...


class Connectors(Protocol):
    def for_dataset(self, dataset_id: str, config: Mapping[str, Any]) -> ProviderConnector: ...


class ConsentRegistry(Protocol):
    def has_consent(
        self, person_key: str, consumer_id: str, purpose: str, fields: Sequence[str], now: datetime
    ) -> bool: ...


class Signer(Protocol):
    def sign_for(self, org_id: str, payload: bytes) -> tuple[str, str]:
        """A detached JWS over `payload` with the organisation's active key, and its kid."""
        ...

    def jwks(self) -> dict[str, Any]: ...
