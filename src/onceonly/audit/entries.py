"""What an audit entry holds, the exact bytes the Merkle tree commits to, and who may read it.

Pure: no I/O. Entries name organisations, agreements, purposes and officers, and hold field
names and hashes; never a personal value (see docs in README, "The audit log").
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from onceonly.crypto.canonical import canonical_json
from onceonly.domain.organisations import Principal, Role

# The entries a citizen's access log lists: every decision to release, or not, their data.
ACCESS_ACTIONS = ("query.release", "query.decision")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited event. Field names and hashes only: never a personal value."""

    action: str  # query.decision, query.release, agreement.approve, token.issue, ...
    outcome: str  # permit, deny, done
    actor_id: str | None
    org_id: str | None
    reason: str | None = None
    agreement_id: int | None = None
    provider_id: str | None = None
    purpose: str | None = None
    person_key: str | None = None
    fields: tuple[str, ...] = ()
    values_hash: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    # Out of the citizen's access log until then (a police lookup), though in the tree now.
    hidden_until: datetime | None = None


MAX_JSON_INT = 2**53 - 1  # RFC 8785 numbers are IEEE doubles: larger integers are inexact


def check_canonical(entry: AuditEntry) -> None:
    """Raise ValueError unless the entry has an RFC 8785 form, as its leaf will need: text that
    is valid Unicode, integers a double holds exactly, finite numbers, string keys. A cheap
    walk over the values, not a full encoding."""
    for value in (entry.action, entry.outcome, entry.actor_id, entry.org_id, entry.reason,
                  entry.agreement_id, entry.provider_id, entry.purpose, entry.person_key,
                  list(entry.fields), entry.values_hash, dict(entry.detail)):
        _check_json(value)


def _check_json(value: Any) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        value.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError, a ValueError
    elif isinstance(value, int):
        if abs(value) > MAX_JSON_INT:
            raise ValueError(f"{value} is beyond the integers JSON holds exactly")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a JSON number")
    elif isinstance(value, list | tuple):
        for item in value:
            _check_json(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"JSON object keys are text, not {key!r}")
            _check_json(key)
            _check_json(item)
    else:
        raise ValueError(f"a {type(value).__name__} has no JSON form")


def timestamp(at: datetime) -> str:
    """RFC 3339 in UTC with microseconds: one spelling, so a leaf's bytes never drift."""
    return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An entry as appended: its index in the log (the Merkle leaf index) and its time."""

    index: int
    at: datetime
    entry: AuditEntry

    def as_json(self) -> dict[str, Any]:
        e = self.entry
        return {
            "index": self.index,
            "at": timestamp(self.at),
            "action": e.action,
            "outcome": e.outcome,
            "reason": e.reason,
            "actor_id": e.actor_id,
            "org_id": e.org_id,
            "agreement_id": e.agreement_id,
            "provider_id": e.provider_id,
            "purpose": e.purpose,
            "person_key": e.person_key,
            "fields": list(e.fields),
            "values_hash": e.values_hash,
            "detail": dict(e.detail),
            "hidden_until": timestamp(e.hidden_until) if e.hidden_until else None,
        }

    def leaf(self) -> bytes:
        """The leaf the tree commits to: RFC 8785 canonical JSON of the whole entry,
        index included, so an entry can be neither altered nor moved."""
        return canonical_json(self.as_json())

    def hidden_at(self, now: datetime) -> bool:
        return self.entry.hidden_until is not None and now < self.entry.hidden_until


def officer_pseudonym(key: bytes, actor_id: str | None) -> str | None:
    """Stable per officer, meaningless outside the exchange: what a citizen sees instead of
    a name (keyed, so nobody can test a guessed name against it)."""
    if actor_id is None:
        return None
    digest = hmac.new(key, actor_id.encode(), hashlib.sha256).hexdigest()
    return f"officer-{digest[:12]}"


def may_read(reader: Principal, record: AuditRecord, now: datetime) -> bool:
    """Deny by default: citizens read entries about themselves once revealed, officers
    their own actions, guardians entries about their organisation's data or by their
    organisation, and the exchange's administrators everything."""
    entry = record.entry
    if reader.role is Role.ADMIN:
        return True
    if reader.role is Role.GUARDIAN:
        return reader.org_id in (entry.provider_id, entry.org_id)
    if reader.role is Role.OFFICER:
        return entry.actor_id == reader.id
    if reader.role is Role.CITIZEN:
        return (reader.person_key is not None and entry.person_key == reader.person_key
                and not record.hidden_at(now))
    return False
