"""Identity across organisations: the person index, pseudonyms and record linkage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from onceonly.domain.identity import LinkCandidate, Match, MatchRecord
from onceonly.services.ports.audit import AuditUnitOfWork
from onceonly.services.ports.catalogue import CatalogueRepository
from onceonly.services.ports.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class ResolvedSubject:
    """One person, as named to one organisation: read by the store (Identities.name), given
    the consumer's pseudonym by the identity use case."""

    person_key: str
    provider_value: str | None  # the provider's own identifier for the person, if it has one
    # How a consumer with no identifier of its own is told who the person is (its pairwise
    # pseudonym for them); None: by the identifier it asked with.
    pseudonym: str | None = None
    consented: tuple[tuple[str, ...], ...] = ()  # the fields of each live consent asked about


class PersonIndex(Protocol):
    def known_scheme(self, scheme: str) -> bool: ...
    def person_key(self, scheme: str, value: str) -> str | None: ...
    def identifiers(self, person_key: str, schemes: Sequence[str]) -> dict[str, str]:
        """The person's identifiers in these schemes, one per scheme."""
        ...


@dataclass(frozen=True, slots=True)
class ConsentQuestion:
    """The live consents to read with the person: for a purpose, given to this consumer or
    to any consumer, at a time."""

    consumer_id: str
    purpose: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Naming:
    """An organisation's identifier for a person, as the exchange reads it: whether the
    organisation may use it, and the person it names, if anybody."""

    allowed: bool  # the organisation names people by this scheme (a pseudonym: its own)
    pairwise: bool  # the organisation is told who people are by pairwise pseudonyms
    subject: ResolvedSubject | None  # None: nobody is known by it


class Identities(Protocol):
    def name(self, org_id: str, scheme: str, value: str, target_scheme: str,
             consent: ConsentQuestion | None = None) -> Naming:
        """The person, and with `consent` their live consents, read together (one round
        trip): read afresh, so a withdrawal refuses the very next query."""
        ...
    def remember_pseudonym(self, consumer_id: str, pseudonym: str, person_key: str) -> None:
        """Keep a pseudonym handed to a consumer (again: nothing changes)."""
        ...
    def add_candidates(self, candidates: Sequence[LinkCandidate]) -> list[LinkCandidate]:
        """Store new candidates (a pair proposed before is left as it is); return those
        stored, with their ids."""
        ...
    def candidate(self, candidate_id: int) -> LinkCandidate | None: ...
    def candidates(self, org_id: str, status: str | None, limit: int) -> list[LinkCandidate]: ...
    def decided(self, candidate: LinkCandidate) -> None:
        """Write a guardian's decision if the candidate is still pending."""
        ...
    def link(self, scheme: str, value: str, person_key: str) -> bool:
        """Add the link to the person index; False if the identifier is linked already."""
        ...


class MatchSources(Protocol):
    """The records matching compares, read from the providers' own stores when needed."""

    def unlinked(self, org_id: str) -> tuple[str, list[MatchRecord]]:
        """The organisation's identifier scheme and its records missing from the index."""
        ...
    def reference(self, scheme: str) -> list[MatchRecord]:
        """The people of the index without an identifier in `scheme` (record id: person
        key), with what the other providers' records say of them."""
        ...


class Matcher(Protocol):
    def match(self, records: Sequence[MatchRecord],
              reference: Sequence[MatchRecord]) -> list[Match]:
        """Scored pairs of a record and a reference person, above REVIEW_WEIGHT."""
        ...


class Pseudonyms(Protocol):
    def of(self, consumer_id: str, person_key: str) -> str: ...


class NamingUnitOfWork(UnitOfWork, Protocol):
    """What naming a person needs (identity.name_subject)."""

    @property
    def identities(self) -> Identities: ...
    @property
    def people(self) -> PersonIndex: ...


class IdentityUnitOfWork(NamingUnitOfWork, AuditUnitOfWork, Protocol):
    """Record linkage and its guardians' decisions."""

    @property
    def catalogue(self) -> CatalogueRepository: ...
