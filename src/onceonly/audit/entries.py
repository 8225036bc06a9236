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

from onceonly.crypto.canonical import canonical_json, exact_canonical_json, orjson_exact
from onceonly.domain.organisations import Principal, Role

# The citizen's own read of what a provider holds about them (subject access).
SUBJECT_ACCESS = "subject_access.read"
# An organisation's decisions on a query, as the dashboard counts them.
QUERY_ACTIONS = ("query.release", "query.decision")
# The entries a citizen's access log lists: every decision to release, or not, their data,
# and their own reads.
ACCESS_ACTIONS = (*QUERY_ACTIONS, SUBJECT_ACCESS)


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


@dataclass(frozen=True, slots=True)
class UnreadableEntry:
    """A row of the log that does not read as an entry: changed behind the log's back (its
    append-only triggers lifted). Readers name it instead of failing on it."""

    index: int
    why: str

    def __str__(self) -> str:
        return f"entry {self.index}: unreadable ({self.why})"


class EntryUnreadable(Exception):
    """Raised where one entry was asked for and its row does not read as an entry."""

    def __init__(self, unreadable: UnreadableEntry) -> None:
        super().__init__(str(unreadable))
        self.unreadable = unreadable


_TEXT = ("action", "outcome")
_OPTIONAL_TEXT = ("reason", "actor_id", "org_id", "provider_id", "purpose", "person_key",
                  "values_hash")


def read_record(index: int, values: Mapping[str, Any]) -> AuditRecord | UnreadableEntry:
    """An entry from its stored values (JSON already decoded, times already read), each
    checked to be of its kind and the whole to have a canonical form: what a row written by
    an append always is. The reason names the column, never its value."""
    problem = _problem(values)
    if problem is not None:
        return UnreadableEntry(index, problem)
    entry = AuditEntry(
        action=values["action"], outcome=values["outcome"], actor_id=values["actor_id"],
        org_id=values["org_id"], reason=values["reason"], agreement_id=values["agreement_id"],
        provider_id=values["provider_id"], purpose=values["purpose"],
        person_key=values["person_key"], fields=tuple(values["fields"]),
        values_hash=values["values_hash"], detail=values["detail"],
        hidden_until=values["hidden_until"])
    try:
        check_canonical(entry)
    except ValueError:
        return UnreadableEntry(index, "it holds a value JSON cannot carry exactly (a number "
                                      "beyond 2**53 or not finite, or text not Unicode)")
    return AuditRecord(index, values["at"], entry)


def _problem(values: Mapping[str, Any]) -> str | None:
    for name in _TEXT:
        if not isinstance(values.get(name), str):
            return f"{name} is {_kind(values.get(name))}, not text"
    for name in _OPTIONAL_TEXT:
        if not isinstance(values.get(name), str | None):
            return f"{name} is {_kind(values.get(name))}, not text"
    if not _aware(values.get("at")):
        return "at is not a time"
    if values.get("hidden_until") is not None and not _aware(values["hidden_until"]):
        return "hidden_until is not a time"
    agreement_id = values.get("agreement_id")
    if agreement_id is not None and type(agreement_id) is not int:
        return f"agreement_id is {_kind(agreement_id)}, not an integer"
    fields = values.get("fields")
    if not (isinstance(fields, list) and all(isinstance(name, str) for name in fields)):
        return f"fields is {_kind(fields)}, not a list of names"
    if not isinstance(values.get("detail"), dict):
        return f"detail is {_kind(values.get('detail'))}, not a JSON object"
    return None


def _aware(value: object) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


def _kind(value: object) -> str:
    """What a JSON value is, in words, without its content."""
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "text",
            bytes: "binary data", list: "a list", dict: "an object"}.get(
        type(value), f"a {type(value).__name__}")


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
        return _leaf_object(
            self.index, timestamp(self.at), e.action, e.outcome, e.reason, e.actor_id, e.org_id,
            e.agreement_id, e.provider_id, e.purpose, e.person_key, list(e.fields),
            e.values_hash, dict(e.detail),
            timestamp(e.hidden_until) if e.hidden_until else None)

    def leaf(self) -> bytes:
        """The leaf the tree commits to: RFC 8785 canonical JSON of the whole entry,
        index included, so an entry can be neither altered nor moved."""
        return canonical_json(self.as_json())

    def hidden_at(self, now: datetime) -> bool:
        return self.entry.hidden_until is not None and now < self.entry.hidden_until


def _leaf_object(index: int, at: str, action: Any, outcome: Any, reason: Any, actor_id: Any,
                 org_id: Any, agreement_id: Any, provider_id: Any, purpose: Any,
                 person_key: Any, fields: Any, values_hash: Any, detail: Any,
                 hidden_until: str | None) -> dict[str, Any]:
    """The object a leaf is the RFC 8785 form of (times in `timestamp`'s spelling)."""
    return {
        "index": index,
        "at": at,
        "action": action,
        "outcome": outcome,
        "reason": reason,
        "actor_id": actor_id,
        "org_id": org_id,
        "agreement_id": agreement_id,
        "provider_id": provider_id,
        "purpose": purpose,
        "person_key": person_key,
        "fields": fields,
        "values_hash": values_hash,
        "detail": detail,
        "hidden_until": hidden_until,
    }


# The leaf's keys in RFC 8785's order (all ASCII, so code-point order): for a reader that
# spells leaves without building their objects (the database, in adapters/db/audit_leaves).
LEAF_KEYS = tuple(sorted(_leaf_object(0, "", *(None,) * 13)))


def stored_leaf(index: int, at: str, action: Any, outcome: Any, reason: Any, actor_id: Any,
                org_id: Any, agreement_id: Any, provider_id: Any, purpose: Any,
                person_key: Any, fields: Any, values_hash: Any, detail: Any,
                hidden_until: str | None) -> bytes | None:
    """The leaf of an entry straight from its stored values (JSON decoded, times already in
    `timestamp`'s spelling), without building the entry: the readers of the whole log
    (`audit verify`, archive bundles) make a million of them. None unless every value is of
    the kind an append writes and orjson's output is the RFC 8785 form: the caller then
    reads the row through `read_record`, which names what is wrong or finds a value only
    rfc8785 writes (a float, say). So both give the same bytes wherever this one answers."""
    if type(action) is not str or type(outcome) is not str:
        return None
    for text in (reason, actor_id, org_id, provider_id, purpose, person_key, values_hash):
        if text is not None and type(text) is not str:
            return None
    if agreement_id is not None and (type(agreement_id) is not int
                                     or not -MAX_JSON_INT <= agreement_id <= MAX_JSON_INT):
        return None
    if type(fields) is not list or type(detail) is not dict or not orjson_exact(detail):
        return None
    for name in fields:
        if type(name) is not str:
            return None
    return exact_canonical_json(_leaf_object(
        index, at, action, outcome, reason, actor_id, org_id, agreement_id, provider_id,
        purpose, person_key, fields, values_hash, detail, hidden_until))


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
