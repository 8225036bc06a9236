"""Accuracy: a citizen challenges a value a provider holds about them; the provider's
guardian corrects it or rejects the challenge; whoever received the old value within their
agreement's retention period is told of the correction.

What a citizen may challenge: a field of a provider's dataset that the provider holds
about them and that is not special-category. Special-category data (health) is corrected
through the provider's own clinical processes, not through the exchange, and never shown
to anyone through it; a field that is not in the dataset cannot be seen either. Both are
refused alike, as `field_not_visible`. A register of life events (tell us once) holds no
record to challenge: its reports are the registrar's or the citizen's own, and a wrong one
is reported again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from onceonly.domain.agreements import Agreement, FieldGrant
from onceonly.domain.catalogue import Dataset, FieldSpec, FieldType, Sensitivity, SourceLabel
from onceonly.domain.errors import conflict, forbidden, invalid, not_found
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.transforms import TRANSFORMS

MAX_TEXT_VALUE = 500
# A guardian's correction in progress (the provider's store being written) that has not
# finished by then was interrupted: another guardian may take the challenge over.
CLAIM_TIMEOUT = timedelta(minutes=5)


class ChallengeStatus(StrEnum):
    OPEN = "open"
    CORRECTING = "correcting"  # a guardian is writing the provider's store
    CORRECTED = "corrected"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Challenge:
    id: int | None
    person_key: str
    provider_id: str
    dataset_id: str
    field: str
    # The citizen's words and proposed value: kept only while the challenge is open.
    what_is_wrong: str | None
    proposed_value: str | None
    status: ChallengeStatus
    raised_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None


def raise_challenge(*, person_key: str, dataset: Dataset | None, field: str,
                    what_is_wrong: str, proposed_value: str | None,
                    now: datetime) -> Challenge:
    if dataset is None:
        raise not_found("dataset_unknown", "no such dataset in the catalogue")
    if dataset.event_type is not None:
        raise invalid("dataset_not_challengeable",
                      f"{dataset.id} is a register of life events, not a record held about "
                      "you: report the event again to put it right")
    spec = dataset.field(field)
    if spec is None or spec.sensitivity is Sensitivity.SPECIAL:
        raise forbidden("field_not_visible",
                        f"{dataset.id} shows you no field {field!r}: only the fields it holds "
                        "about you, special-category data excepted, can be challenged here")
    if not what_is_wrong.strip():
        raise invalid("reason_required", "say what is wrong with the value")
    return Challenge(None, person_key, dataset.provider_id, dataset.id, field,
                     what_is_wrong.strip(), proposed_value, ChallengeStatus.OPEN, now)


def guardian_of(challenge: Challenge | None, guardian: Principal) -> Challenge:
    """The challenge, if the caller is a guardian of its provider; else as if none existed."""
    if challenge is None or guardian.role is not Role.GUARDIAN \
            or guardian.org_id != challenge.provider_id:
        raise not_found("challenge_unknown", "no such challenge about your organisation's data")
    return challenge


def claim(challenge: Challenge, guardian: Principal, now: datetime) -> Challenge:
    """The guardian takes the challenge to correct it: only one guardian writes the store."""
    interrupted = (challenge.status is ChallengeStatus.CORRECTING
                   and challenge.decided_at is not None
                   and now - challenge.decided_at > CLAIM_TIMEOUT)
    if challenge.status is not ChallengeStatus.OPEN and not interrupted:
        raise conflict("challenge_closed", f"the challenge is {challenge.status.value}")
    return replace(challenge, status=ChallengeStatus.CORRECTING, decided_by=guardian.id,
                   decided_at=now)


def corrected(challenge: Challenge, reason: str, now: datetime) -> Challenge:
    return replace(challenge, status=ChallengeStatus.CORRECTED, decided_at=now,
                   reason=_reason(reason), what_is_wrong=None, proposed_value=None)


def reject(challenge: Challenge, guardian: Principal, reason: str, now: datetime) -> Challenge:
    if challenge.status is not ChallengeStatus.OPEN:
        raise conflict("challenge_closed", f"the challenge is {challenge.status.value}")
    return replace(challenge, status=ChallengeStatus.REJECTED, decided_by=guardian.id,
                   decided_at=now, reason=_reason(reason), what_is_wrong=None,
                   proposed_value=None)


def _reason(reason: str) -> str:
    if not reason.strip():
        raise invalid("reason_required", "say why")
    return reason.strip()


def typed_value(spec: FieldSpec, value: Any) -> Any:
    """The guardian's corrected value as the field's type, or a refusal."""
    kind = spec.type
    ok = {
        FieldType.STRING: isinstance(value, str) and 0 < len(value) <= MAX_TEXT_VALUE,
        FieldType.INTEGER: isinstance(value, int) and not isinstance(value, bool),
        FieldType.BOOLEAN: isinstance(value, bool),
        FieldType.LIST: isinstance(value, list) and all(isinstance(v, str) for v in value),
        FieldType.DATE: isinstance(value, str),
    }[kind]
    if ok and kind is FieldType.DATE:
        try:
            return date.fromisoformat(value)
        except ValueError:
            ok = False
    if not ok:
        raise invalid("value_type_mismatch",
                      f"{spec.name} holds a {kind.value}; the corrected value is not one")
    return value


def stored_value(spec: FieldSpec, released: Any) -> Any:
    """A value as read from a store (dates travel as ISO strings) in the field's own type."""
    if spec.type is FieldType.DATE and isinstance(released, str):
        return date.fromisoformat(released)
    return released


@dataclass(frozen=True, slots=True)
class PastRelease:
    """A release of a person's data, as the audit log recorded it."""

    at: datetime
    consumer_id: str
    agreement_id: int
    fields: tuple[str, ...]
    release_id: str | None
    hidden_until: datetime | None


@dataclass(frozen=True, slots=True)
class Recipient:
    """A consumer that received a value now corrected, and still keeps it."""

    consumer_id: str
    agreement_id: int
    fields: tuple[str, ...]  # as released: the field, or what was derived from it
    release_ids: tuple[str, ...]
    hidden_until: datetime | None  # a notice about a hidden access stays hidden as long


def recipients(releases: Iterable[PastRelease], agreements: Mapping[int, Agreement],
               dataset_id: str, field: str, now: datetime) -> list[Recipient]:
    """Each agreement under which the corrected field (or something derived from it) was
    released, within that agreement's retention period."""
    found: dict[int, list[PastRelease]] = {}
    released: dict[int, set[str]] = {}
    for release in releases:
        agreement = agreements.get(release.agreement_id)
        if agreement is None or agreement.dataset_id != dataset_id:
            continue
        if release.at + timedelta(days=agreement.retention_days) <= now:
            continue
        names = {g.name for g in agreement.grants if g.source == field} & set(release.fields)
        if names:
            found.setdefault(agreement.id or 0, []).append(release)
            released.setdefault(agreement.id or 0, set()).update(names)
    out = []
    for agreement_id, seen in sorted(found.items()):
        hidden = [r.hidden_until for r in seen]
        out.append(Recipient(
            agreements[agreement_id].consumer_id, agreement_id,
            tuple(sorted(released[agreement_id])),
            tuple(r.release_id for r in seen if r.release_id),
            None if None in hidden else max(h for h in hidden if h is not None)))
    return out


def released_sources(grants: Iterable[FieldGrant], labels: Mapping[str, str]) -> dict[str, str]:
    """Each released field's source label: `derived` for a derived answer, else the label
    of the dataset field it is (verified by the provider, citizen-supplied)."""
    return {g.name: SourceLabel.DERIVED.value if TRANSFORMS[g.transform].derived
            else labels.get(g.source, SourceLabel.DERIVED.value) for g in grants}
