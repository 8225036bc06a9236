"""Tell us once: life events reported once, as CloudEvents 1.0, and the notifications made
from them for each organisation that should know.

Pure: the event types and their data schemas, intake checks, the notification a receiver
gets (its own identifier for the person, only its agreed fields), and the retry schedule.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from onceonly.domain.agreements import Agreement
from onceonly.domain.catalogue import FieldSpec, FieldType, Sensitivity, SourceLabel
from onceonly.domain.errors import conflict, forbidden, invalid
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.transforms import TRANSFORMS

SPEC_VERSION = "1.0"
TYPE_PREFIX = "gov.onceonly."
# A person named in an event or a notification: `scheme:value`, e.g. `nino:QQ123456C`.
SUBJECT = re.compile(r"^([a-z][a-z0-9_-]{0,31}):([A-Za-z0-9 /._-]{1,64})$")


class Reporter(StrEnum):
    REGISTRAR = "registrar"  # an officer of the organisation keeping the register
    CITIZEN = "citizen"  # the person themself, signed in


@dataclass(frozen=True, slots=True)
class EventType:
    type: str
    title: str
    reported_by: Reporter
    fields: tuple[FieldSpec, ...]
    required: tuple[str, ...]

    def schema(self) -> dict[str, Any]:
        """The JSON Schema (2020-12) of the event's `data`."""
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": self.title,
            "type": "object",
            "properties": {spec.name: _json_type(spec) for spec in self.fields},
            "required": list(self.required),
            "additionalProperties": False,
        }


def _json_type(spec: FieldSpec) -> dict[str, Any]:
    if spec.type is FieldType.DATE:
        return {"type": "string", "format": "date", "description": spec.description}
    if spec.type is FieldType.BOOLEAN:
        return {"type": "boolean", "description": spec.description}
    if spec.type is FieldType.INTEGER:
        return {"type": "integer", "description": spec.description}
    return {"type": "string", "minLength": 1, "maxLength": 200, "description": spec.description}


_S, _D = FieldType.STRING, FieldType.DATE
_PER, _VER, _CIT = Sensitivity.PERSONAL, SourceLabel.VERIFIED, SourceLabel.CITIZEN_SUPPLIED


def _f(name: str, kind: FieldType, source: SourceLabel, description: str) -> FieldSpec:
    return FieldSpec(name, kind, _PER, source, description)


EVENT_TYPES: dict[str, EventType] = {e.type: e for e in (
    EventType(TYPE_PREFIX + "death.registered", "Death registered", Reporter.REGISTRAR, (
        _f("full_name", _S, _VER, "name of the deceased"),
        _f("date_of_birth", _D, _VER, "date of birth of the deceased"),
        _f("date_of_death", _D, _VER, "date of death"),
        _f("place_of_death", _S, _VER, "place of death"),
    ), ("full_name", "date_of_death")),
    # The subject is the parent: the organisations told know the parent, not the child yet.
    EventType(TYPE_PREFIX + "birth.registered", "Birth registered", Reporter.REGISTRAR, (
        _f("child_full_name", _S, _VER, "name of the child"),
        _f("child_date_of_birth", _D, _VER, "date of birth of the child"),
        _f("place_of_birth", _S, _VER, "place of birth"),
        _f("child_registration_number", _S, _VER, "the child's registration number"),
    ), ("child_full_name", "child_date_of_birth", "child_registration_number")),
    # One event per spouse: each is told about by their own identifiers.
    EventType(TYPE_PREFIX + "marriage.registered", "Marriage registered", Reporter.REGISTRAR, (
        _f("date_of_marriage", _D, _VER, "date of the marriage or civil partnership"),
        _f("place_of_marriage", _S, _VER, "place of the ceremony"),
        _f("new_full_name", _S, _VER, "name taken on marriage, if any"),
    ), ("date_of_marriage",)),
    EventType(TYPE_PREFIX + "name.changed", "Change of name", Reporter.CITIZEN, (
        _f("new_full_name", _S, _CIT, "the new name"),
        _f("previous_full_name", _S, _CIT, "the name used before"),
        _f("effective_date", _D, _CIT, "from when the new name is used"),
    ), ("new_full_name", "effective_date")),
    EventType(TYPE_PREFIX + "address.changed", "Change of address", Reporter.CITIZEN, (
        _f("new_address", _S, _CIT, "the new address"),
        _f("effective_date", _D, _CIT, "moving date"),
    ), ("new_address", "effective_date")),
)}

_VALIDATORS = {name: Draft202012Validator(e.schema(), format_checker=FormatChecker())
               for name, e in EVENT_TYPES.items()}
# Dates that cannot lie in the future of the report.
_PAST_DATES = ("date_of_death", "child_date_of_birth", "date_of_marriage", "date_of_birth")


@dataclass(frozen=True, slots=True)
class LifeEvent:
    """A CloudEvent as received, checked: `subject` is the reporter's own identifier."""

    id: str
    source: str
    type: str
    scheme: str
    value: str
    time: datetime
    data: Mapping[str, Any]
    informant: tuple[str, str] | None = None  # a relative who reported it, to see its status

    @property
    def event_type(self) -> EventType:
        return EVENT_TYPES[self.type]

    def cloudevent(self) -> dict[str, Any]:
        event: dict[str, Any] = {
            "specversion": SPEC_VERSION, "id": self.id, "source": self.source,
            "type": self.type, "subject": f"{self.scheme}:{self.value}",
            "time": iso(self.time), "datacontenttype": "application/json",
            "data": dict(self.data)}
        if self.informant:
            event["informant"] = f"{self.informant[0]}:{self.informant[1]}"
        return event


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_subject(text: str, what: str = "subject") -> tuple[str, str]:
    found = SUBJECT.match(text)
    if not found:
        raise invalid(f"{what}_invalid",
                      f"{what} must be 'scheme:identifier', e.g. 'grn:RN1980000123'")
    return found.group(1), found.group(2)


def check_event(event: Mapping[str, Any], now: datetime) -> LifeEvent:
    """The intake check of a structured CloudEvent 1.0: the envelope, a known type, and the
    data against the type's schema. Raises DomainError (invalid) naming what is wrong."""
    if event.get("specversion") != SPEC_VERSION:
        raise invalid("specversion_unsupported", "specversion must be \"1.0\" (CloudEvents 1.0)")
    for name in ("id", "source", "type", "subject"):
        if not isinstance(event.get(name), str) or not event[name]:
            raise invalid("event_invalid", f"the CloudEvent attribute '{name}' is required")
    kind = EVENT_TYPES.get(event["type"])
    if kind is None:
        raise invalid("event_type_unknown",
                      f"unknown event type {event['type']!r}; known: {sorted(EVENT_TYPES)}")
    content_type = event.get("datacontenttype", "application/json")
    if content_type != "application/json":
        raise invalid("event_invalid", "datacontenttype must be application/json")
    data = event.get("data")
    errors = sorted(_VALIDATORS[kind.type].iter_errors(data), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "data"
        raise invalid("event_data_invalid", f"{kind.type}: {where}: {first.message}")
    assert isinstance(data, dict)
    for name in _PAST_DATES:
        if name in data and date.fromisoformat(data[name]) > now.date():
            raise invalid("event_data_invalid", f"{kind.type}: {name} is in the future")
    time = now
    if "time" in event:
        try:
            time = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
        except ValueError:
            raise invalid("event_invalid", "time must be an RFC 3339 timestamp") from None
        if time.tzinfo is None:
            raise invalid("event_invalid", "time must carry its offset, e.g. ...Z")
    scheme, value = parse_subject(event["subject"])
    informant = parse_subject(event["informant"], "informant") if event.get("informant") else None
    return LifeEvent(event["id"], event["source"], kind.type, scheme, value, time, data,
                     informant)


def check_reporter(who: Principal, event: LifeEvent, register_org: str,
                   own_schemes: Sequence[str]) -> None:
    """Who may report what: a registrar of the organisation keeping the register, naming the
    person by that organisation's own identifier and from one of its own systems."""
    kind = event.event_type
    if kind.reported_by is Reporter.CITIZEN:
        raise forbidden("reporter_not_allowed",
                        f"{kind.type} is reported by the citizen, at /v1/me/events")
    if who.role is not Role.OFFICER or who.org_id != register_org:
        raise forbidden("reporter_not_allowed",
                        f"only a registrar (officer) of {register_org} reports {kind.type}")
    if event.source != who.org_id and not event.source.startswith(who.org_id + "/"):
        raise forbidden("source_not_yours",
                        f"source must be {who.org_id} or one of its systems")
    if event.scheme not in own_schemes:
        raise forbidden("scheme_not_yours",
                        f"{who.org_id} names people by {', '.join(own_schemes)}")


def check_citizen_event(who: Principal, kind: EventType) -> None:
    if who.role is not Role.CITIZEN or who.person_key is None:
        raise forbidden("role_not_allowed", "only a signed-in citizen reports at /v1/me/events")
    if kind.reported_by is not Reporter.CITIZEN:
        raise forbidden("reporter_not_allowed",
                        f"{kind.type} is reported by the registrar, not the citizen")


@dataclass(frozen=True, slots=True)
class Recipient:
    """An organisation to tell, under its notification agreement."""

    agreement: Agreement
    required: bool  # the law requires it to be told: the informant cannot leave it out


def choose_recipients(subscribed: Sequence[Recipient],
                      chosen: Sequence[str] | None) -> list[Recipient]:
    """Whom to tell: every subscriber, or those the informant chose, within what the law
    requires (as Tell Us Once lets the informant choose)."""
    if chosen is None:
        return list(subscribed)
    by_org = {r.agreement.consumer_id: r for r in subscribed}
    unknown = sorted(set(chosen) - by_org.keys())
    if unknown:
        raise invalid("recipient_not_subscribed",
                      f"{', '.join(unknown)} cannot be told of this event: no notification "
                      f"agreement; those that can: {', '.join(sorted(by_org)) or 'none'}")
    missing = sorted(org for org, r in by_org.items() if r.required and org not in chosen)
    if missing:
        raise invalid("recipient_required",
                      f"the law requires {', '.join(missing)} to be told; they cannot be "
                      "left out")
    return [by_org[org] for org in sorted(set(chosen))]


def notification(event: LifeEvent, report_id: str, delivery_id: str, agreement: Agreement,
                 subject: tuple[str, str], language: str | None = None) -> dict[str, Any]:
    """The CloudEvent one receiver gets: the person by its own identifier, and only the
    fields its agreement allows, transformed as agreed. `language`: when a citizen caused
    it, the language the receiver should answer them in (the `language` extension)."""
    today = event.time.date()
    data = {grant.name: TRANSFORMS[grant.transform].apply(event.data[grant.source], today)
            for grant in agreement.grants if event.data.get(grant.source) is not None}
    return {
        "specversion": SPEC_VERSION, "id": delivery_id, "source": event.source,
        "type": event.type, "subject": f"{subject[0]}:{subject[1]}", "time": iso(event.time),
        "datacontenttype": "application/json", "data": data,
        "reportid": report_id, "agreementid": agreement.id,
    } | ({"language": language} if language else {})


CORRECTED = TYPE_PREFIX + "record.corrected"


def correction_notice(source: str, report_id: str, delivery_id: str,
                      subject: tuple[str, str], at: datetime,
                      data: Mapping[str, Any], language: str | None = None) -> dict[str, Any]:
    """A consumer's notice that a value it received about the person was corrected;
    `language` as for a notification (a citizen's challenge caused it)."""
    return {"specversion": SPEC_VERSION, "id": delivery_id, "source": source,
            "type": CORRECTED, "subject": f"{subject[0]}:{subject[1]}", "time": iso(at),
            "datacontenttype": "application/json", "data": dict(data), "reportid": report_id,
            } | ({"language": language} if language else {})


def same_event(first_digest: str, second_digest: str) -> None:
    """A repeated event id is answered as already received only if it is the same event."""
    if first_digest != second_digest:
        raise conflict("event_id_reused",
                       "this source already sent a different event with this id")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, and when to give up (dead-letter)."""

    max_attempts: int = 8
    base_seconds: float = 1.0
    cap_seconds: float = 300.0

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(attempts - 1, 0))
        return timedelta(seconds=rng.uniform(ceiling / 2, ceiling))

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # dead-lettered: attempts spent; the receiver's guardian is alerted


@dataclass(frozen=True, slots=True)
class Report:
    """A life event as the exchange keeps it (its values sealed apart, in storage)."""

    id: str
    source: str
    event_id: str
    type: str
    person_key: str
    informant_key: str | None
    reported_by: str
    reporter_org: str
    received_at: datetime
    digest: str
    not_told: tuple[tuple[str, str], ...]  # (organisation, why) for subscribers not told


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    report_id: str
    receiver_id: str
    agreement_id: int | None  # None: a provider told of a correction to its own record
    mode: str  # webhook, inbox
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None = None
    last_error: str | None = None

    # A delivery's state changes. A claim counts an attempt as it takes the delivery
    # (adapters' claim); one that sends nothing gives it back here (`held`, `to_inbox`).

    def delivered(self, at: datetime) -> Delivery:
        return replace(self, status=DeliveryStatus.DELIVERED, delivered_at=at, last_error=None)

    def dead_lettered(self, error: str) -> Delivery:
        return replace(self, status=DeliveryStatus.FAILED, last_error=error)

    def to_retry(self, error: str, at: datetime) -> Delivery:
        return replace(self, last_error=error, next_attempt_at=at)

    def to_inbox(self, now: datetime) -> Delivery:
        """Its receiver moved to an inbox since the report: it waits there, not sent."""
        return replace(self, mode="inbox", attempts=self.attempts - 1, next_attempt_at=now)

    def held(self, until: datetime) -> Delivery:
        """Its agreement is suspended or not yet valid: not sent, tried again later."""
        return replace(self, attempts=self.attempts - 1, next_attempt_at=until)

    def requeued(self, now: datetime) -> Delivery:
        """Dead-lettered, tried again from the first attempt."""
        return replace(self, status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now,
                       last_error=None)


def may_see_report(who: Principal, report: Report) -> bool:
    """The reporting organisation's officers and guardians, the person, and the informant."""
    if who.role is Role.CITIZEN:
        return who.person_key is not None and who.person_key in (report.person_key,
                                                                 report.informant_key)
    return who.org_id == report.reporter_org and who.role in (Role.OFFICER, Role.GUARDIAN)
