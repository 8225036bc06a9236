"""Identity across organisations: which identifiers an organisation may name people by,
and the rules for links the matcher proposes. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from onceonly.domain.errors import conflict, forbidden, invalid
from onceonly.domain.organisations import Principal, Role

# The scheme of pairwise pseudonyms: an organisation registered for it is named people back
# by a pseudonym of its own (like OpenID Connect pairwise subject identifiers).
PAIRWISE = "pairwise"

# Match weights are log2 Bayes factors (Fellegi-Sunter, as splink reports them). A link is
# applied without a guardian only when an identifier agrees as well and the weight clears
# ACCEPT_WEIGHT; any other candidate at or above REVIEW_WEIGHT waits for a guardian; below
# it, it is no candidate at all.
ACCEPT_WEIGHT = 20.0
REVIEW_WEIGHT = 5.0
COMPARED_FIELDS = ("identifiers", "full_name", "date_of_birth", "postcode")

_POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})\s*$")


def postcode_of(address: str | None) -> str | None:
    """The UK postcode an address ends with, normalised (one space), else None."""
    found = _POSTCODE.search(address.upper()) if address else None
    return f"{found.group(1)} {found.group(2)}" if found else None


@dataclass(frozen=True, slots=True)
class MatchRecord:
    """What matching compares of one record: the record's id (an organisation's identifier,
    or a person key in the reference), name, date of birth, postcode, and other identifiers
    it carries as 'scheme:value'. Held in memory while matching, never stored."""

    record_id: str
    full_name: str | None
    date_of_birth: date | None
    postcode: str | None
    identifiers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    """A scored pair: an organisation's record and a person of the reference."""

    record_id: str
    person_key: str
    match_weight: float
    identifier_agreement: bool
    comparisons: Mapping[str, str] = field(default_factory=dict)  # field -> level, no values


class LinkStatus(StrEnum):
    PENDING = "pending"  # waits for a guardian
    APPLIED = "applied"  # applied by the matcher: an identifier agreed, above the weight
    CONFIRMED = "confirmed"  # a guardian applied it
    REJECTED = "rejected"  # a guardian turned it down


def triage(match: Match) -> LinkStatus | None:
    """Applied, waiting for a guardian, or not a candidate at all."""
    if match.match_weight < REVIEW_WEIGHT:
        return None
    if match.identifier_agreement and match.match_weight >= ACCEPT_WEIGHT:
        return LinkStatus.APPLIED
    return LinkStatus.PENDING


def best_per_record(matches: Iterable[Match]) -> list[Match]:
    """Each record's best match (the highest weight; equal weights by person key), so that no
    identifier is proposed for two people at once."""
    best: dict[str, Match] = {}
    for match in matches:
        known = best.get(match.record_id)
        if known is None or (match.match_weight, known.person_key) > (known.match_weight,
                                                                      match.person_key):
            best[match.record_id] = match
    return [best[record_id] for record_id in sorted(best)]


def precision_recall(predicted: Mapping[str, str], truth: Mapping[str, str]) -> tuple[float, float]:
    """Precision and recall of predicted links (record id -> person key) against the truth."""
    right = sum(1 for record_id, person in predicted.items() if truth.get(record_id) == person)
    precision = right / len(predicted) if predicted else 1.0
    recall = right / len(truth) if truth else 1.0
    return precision, recall


@dataclass(frozen=True, slots=True)
class LinkCandidate:
    id: int | None
    org_id: str
    scheme: str
    value: str
    person_key: str
    match_weight: float
    identifier_agreement: bool
    comparisons: Mapping[str, str]
    status: LinkStatus
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None


def decide(candidate: LinkCandidate, guardian: Principal, confirm: bool, reason: str,
           now: datetime) -> LinkCandidate:
    """A guardian of the organisation whose identifier it is confirms or rejects a link."""
    if guardian.role is not Role.GUARDIAN:
        raise forbidden("role_not_allowed", "only a data guardian may decide links")
    if guardian.org_id != candidate.org_id:
        raise forbidden("not_your_identifier",
                        f"only a guardian of {candidate.org_id} may decide links of its "
                        "identifiers")
    if candidate.status is not LinkStatus.PENDING:
        raise conflict("already_decided", f"the link candidate is {candidate.status.value}")
    if not reason.strip():
        raise invalid("reason_required", "say why: the reason is recorded and audited")
    return replace(candidate, status=LinkStatus.CONFIRMED if confirm else LinkStatus.REJECTED,
                   decided_by=guardian.id, decided_at=now, reason=reason.strip())
