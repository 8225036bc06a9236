"""Tell us once: take a life event once, and write a delivery for every organisation that
should know, in the same transaction as the report (a transactional outbox). The workers
(services/delivery.py) push webhooks; organisations without one read their inbox here.
Corrections told the same way: services/correction_deliveries.py."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from onceonly.audit.entries import AuditEntry
from onceonly.crypto.canonical import canonical_json
from onceonly.domain.errors import forbidden, invalid, not_found
from onceonly.domain.life_events import (
    EVENT_TYPES,
    Delivery,
    DeliveryStatus,
    LifeEvent,
    Recipient,
    Report,
    check_citizen_event,
    check_event,
    check_reporter,
    may_see_report,
    same_event,
)
from onceonly.domain.organisations import Principal, Role
from onceonly.services.envelopes import Envelopes
from onceonly.services.intake_claims import IntakeClaims
from onceonly.services.life_event_notifications import fan_out, subscribers_of
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.delivery import Doorbell
from onceonly.services.ports.life_events import LifeEventsUnitOfWork
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import refuse_as, refusing

INBOX_PAGE = 100
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True, slots=True)
class ReportStatus:
    report: Report
    deliveries: tuple[Delivery, ...]
    already_received: bool = False


def sealed_context(delivery_id: str) -> dict[str, str]:
    return {"delivery": delivery_id}


def digest_of(event: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(event))).hexdigest()


class LifeEventService:
    def __init__(self, uows: UnitOfWorkFactory[LifeEventsUnitOfWork], clock: Clock,
                 envelopes: Envelopes,
                 operator_org: str, doorbell: Doorbell | None = None,
                 at_intake: IntakeClaims | None = None, *,
                 one_transaction: bool = False) -> None:
        self.uows = uows
        self.clock = clock
        self.envelopes = envelopes
        self.operator_org = operator_org
        self.doorbell = doorbell  # rung once a report's deliveries are committed
        self.at_intake = at_intake  # or claimed at intake for this process's worker
        self.one_transaction = one_transaction  # a report's intake (else two: see _report)

    # Reporting

    def report(self, who: Principal, event: Mapping[str, Any],
               recipients: Sequence[str] | None = None) -> ReportStatus:
        """A registrar's report (death, birth, marriage), by its register's own identifier."""
        def check(uow: LifeEventsUnitOfWork, checked: LifeEvent, register_org: str) -> str:
            schemes = uow.life_events.schemes_of([who.org_id])[who.org_id]
            check_reporter(who, checked, register_org, schemes)
            return self._person(uow, checked.scheme, checked.value, "subject")
        return self._report(who, event, recipients, check)

    def report_own(self, citizen: Principal, event: Mapping[str, Any],
                   recipients: Sequence[str] | None = None) -> ReportStatus:
        """A citizen's report of their own change of name or address. The exchange names
        them; a subject, if given, must be themself."""
        event = {"specversion": "1.0", "source": f"{self.operator_org}/citizens",
                 "id": str(uuid.uuid4()),
                 "subject": f"person:{citizen.person_key}", **event}

        def check(uow: LifeEventsUnitOfWork, checked: LifeEvent, register_org: str) -> str:
            check_citizen_event(citizen, checked.event_type)
            if checked.source != f"{self.operator_org}/citizens":
                raise forbidden("source_not_yours",
                                f"a citizen's reports come from {self.operator_org}/citizens")
            if checked.scheme != "person":
                key = uow.people.person_key(checked.scheme, checked.value)
                if key != citizen.person_key:
                    raise forbidden("not_your_record", "a citizen reports for themself only")
            elif checked.value != citizen.person_key:
                raise forbidden("not_your_record", "a citizen reports for themself only")
            assert citizen.person_key is not None
            return citizen.person_key
        return self._report(citizen, event, recipients, check)

    def _person(self, uow: LifeEventsUnitOfWork, scheme: str, value: str, what: str) -> str:
        key = uow.people.person_key(scheme, value)
        if key is None:
            raise not_found(f"{what}_unknown", f"the person index knows no {scheme} {value}")
        return key

    def _report(self, who: Principal, event: Mapping[str, Any],
                recipients: Sequence[str] | None,
                identify: Callable[[LifeEventsUnitOfWork, LifeEvent, str], str]) -> ReportStatus:
        """`identify`: who may report it, and whom it is about (their person key)."""
        now = self.clock.now()
        kind = event.get("type")
        with refusing(self.uows, self.clock, "event.report", who,
                      detail={"type": kind[:100] if isinstance(kind, str) else None}):
            checked = check_event(event, now)
            digest = digest_of(event)
            # PostgreSQL: one transaction, fewer round trips. SQLite: the decision and every
            # notification built before its write lock is taken (held by one writer at once).
            with self.uows(write=self.one_transaction) as uow:
                decided = self._decide(uow, who, checked, digest, recipients, identify, now)
                if isinstance(decided, ReportStatus):
                    return decided
                if self.one_transaction:
                    return self._write(uow, who, checked, digest, *decided, now)
            with self.uows(write=True) as uow:
                return self._write(uow, who, checked, digest, *decided, now)

    def _decide(self, uow: LifeEventsUnitOfWork, who: Principal, checked: LifeEvent,
                digest: str, recipients: Sequence[str] | None,
                identify: Callable[[LifeEventsUnitOfWork, LifeEvent, str], str],
                now: datetime) -> ReportStatus | tuple[Report, list[Any], dict[str, str]]:
        """Whether it was received before, who is told, and every notification, built."""
        earlier = uow.life_events.report_by_event(checked.source, checked.id)
        if earlier is not None:
            same_event(earlier.digest, digest)
            return self._status(uow, earlier, already_received=True)
        register = uow.life_events.register(checked.type)
        if register is None:
            raise invalid("event_type_not_offered",
                          f"no register takes {checked.type} on this exchange")
        person_key = identify(uow, checked, register.provider_id)
        informant_key = (self._person(uow, *checked.informant, "informant")
                         if checked.informant else None)
        return fan_out(uow, who, checked, register.id, person_key, informant_key,
                       recipients, digest, now)

    def _write(self, uow: LifeEventsUnitOfWork, who: Principal, checked: LifeEvent,
               digest: str, report: Report, outbox: list[tuple[Delivery, dict[str, Any]]],
               urls: dict[str, str], now: datetime) -> ReportStatus:
        """The report, its deliveries (claimed at intake if this process's worker takes
        them) and its audit entry, committed; then the worker handed them, or rung."""
        at_intake = self.at_intake
        token = at_intake.token_for(outbox) if at_intake is not None else None
        if at_intake is not None and token is not None:
            outbox = at_intake.claimed(outbox, now)
        sealed = self._seal(uow, who.org_id, report, checked, outbox)
        if not uow.life_events.add_report(report, sealed[0], sealed[1], token):
            earlier = uow.life_events.report_by_event(checked.source, checked.id)
            assert earlier is not None  # a racing twin committed first
            same_event(earlier.digest, digest)
            return self._status(uow, earlier, already_received=True)
        uow.audit.record(AuditEntry(
            "event.report", "done", who.id, who.org_id, person_key=report.person_key,
            detail={"report": report.id, "type": report.type,
                    "told": sorted(d.receiver_id for d, _ in outbox),
                    "not_told": [list(p) for p in report.not_told]}), now)
        uow.commit()
        if at_intake is not None and token is not None:
            at_intake.hand_over(outbox, sealed[1], urls, token)
        elif self.doorbell is not None and any(d.mode == "webhook" for d, _ in outbox):
            self.doorbell.ring()
        return ReportStatus(report, tuple(d for d, _ in outbox))


    def _seal(self, uow: LifeEventsUnitOfWork, org_id: str, report: Report, event: LifeEvent,
              outbox: list[tuple[Delivery, dict[str, Any]]]) -> tuple[Any, list[Any]]:
        """Personal values are kept only sealed, each notification under its receiver's
        data key."""
        event_box, *notes = self.envelopes.encrypt_each(
            [(org_id, canonical_json(event.cloudevent()), {"report": report.id}),
             *((d.receiver_id, canonical_json(note), sealed_context(d.id))
               for d, note in outbox)], keys=uow.data_keys)
        return event_box, [(d, box) for (d, _), box in zip(outbox, notes, strict=True)]

    def subscribers(self, event_type: str) -> list[Recipient]:
        """Who would be told of an event of this type now, and whether the law requires it
        (for an informant choosing whom to tell)."""
        now = self.clock.now()
        with self.uows() as uow:
            register = uow.life_events.register(event_type)
            if register is None:
                raise not_found("event_type_unknown", f"no register takes {event_type}")
            return subscribers_of(uow, register.id, now)

    # Status

    def status(self, who: Principal, report_id: str) -> ReportStatus:
        with self.uows() as uow:
            report = uow.life_events.report(report_id)
            if report is not None and may_see_report(who, report):
                return self._status(uow, report)
        refuse_as(self.uows, self.clock, "event.status", who,
                  not_found("report_unknown", f"no report {report_id} for you"),
                  detail={"report": report_id[:64]})

    def my_reports(self, citizen: Principal) -> list[ReportStatus]:
        if citizen.role is not Role.CITIZEN or citizen.person_key is None:
            raise forbidden("role_not_allowed", "only a signed-in citizen has reports of their own")
        with self.uows() as uow:
            reports = uow.life_events.reports_about(citizen.person_key)
            deliveries = uow.life_events.deliveries_of([r.id for r in reports])
        return [ReportStatus(r, tuple(d for d in deliveries if d.report_id == r.id))
                for r in reports]

    def _status(self, uow: LifeEventsUnitOfWork, report: Report, *,
                already_received: bool = False) -> ReportStatus:
        return ReportStatus(report, tuple(uow.life_events.deliveries_of([report.id])),
                            already_received)

    # Inboxes and endpoints

    def inbox(self, who: Principal, limit: int = INBOX_PAGE) -> list[tuple[Delivery, bytes]]:
        """Pending notifications for the caller's organisation, oldest first, each as the
        CloudEvent's bytes. Those under an agreement no longer active wait unseen."""
        _check_receiver(who)
        now = self.clock.now()
        with self.uows() as uow:
            waiting = uow.life_events.inbox(who.org_id, limit)
            active = _active_agreements(uow, {d.agreement_id for d, _ in waiting
                                              if d.agreement_id is not None}, now)
        items = [(d, self.envelopes.decrypt(box, sealed_context(d.id))) for d, box in waiting
                 if d.agreement_id is None or d.agreement_id in active]  # None: its own record
        if items:
            with self.uows(write=True) as uow:
                uow.audit.record(AuditEntry(
                    "notification.read", "done", who.id, who.org_id,
                    detail={"deliveries": [d.id for d, _ in items]}), now)
                uow.commit()
        return items

    def acknowledge(self, who: Principal, delivery_id: str) -> Delivery:
        """Idempotent: acknowledging again answers with the delivery as it stands."""
        _check_receiver(who)
        now = self.clock.now()
        with self.uows(write=True) as uow:
            if uow.life_events.acknowledge(delivery_id, who.org_id, now):
                delivery = uow.life_events.delivery(delivery_id)
                assert delivery is not None
                uow.audit.record(attempt_entry(delivery, "acknowledged", who), now)
                uow.commit()
                return delivery
            delivery = uow.life_events.delivery(delivery_id)
        if delivery is not None and delivery.receiver_id == who.org_id \
                and delivery.status is DeliveryStatus.DELIVERED:
            return delivery
        refuse_as(self.uows, self.clock, "notification.acknowledge", who,
                  not_found("delivery_unknown", f"no delivery {delivery_id} waits in your inbox"),
                  detail={"delivery": delivery_id[:64]})

    def set_endpoint(self, guardian: Principal, url: str | None) -> None:
        """Where the guardian's organisation takes notifications: a webhook, or (None) its
        inbox. Over https, except on this machine's loopback (a local receiver)."""
        now = self.clock.now()
        with refusing(self.uows, self.clock, "endpoint.set", guardian):
            if guardian.role is not Role.GUARDIAN:
                raise forbidden("role_not_allowed",
                                "only a data guardian sets where notifications go")
            if url is not None:
                _check_url(url)
            with self.uows(write=True) as uow:
                uow.life_events.set_endpoint(guardian.org_id, url, guardian.id, now)
                uow.audit.record(AuditEntry(
                    "endpoint.set", "done", guardian.id, guardian.org_id,
                    detail={"mode": "webhook" if url else "inbox"}), now)
                uow.commit()

    def dead_letters(self, guardian: Principal, limit: int = 100) -> list[Delivery]:
        """Deliveries to the guardian's organisation that failed every attempt."""
        if guardian.role is not Role.GUARDIAN:
            raise forbidden("role_not_allowed", "a data guardian sees dead-lettered deliveries")
        with self.uows() as uow:
            return uow.life_events.failed_for(guardian.org_id, limit)

    def redeliver(self, guardian: Principal, delivery_id: str) -> Delivery:
        """A dead-lettered delivery, tried again from the first attempt, by a guardian of
        the receiving organisation once its receiver is mended."""
        now = self.clock.now()
        with self.uows(write=True) as uow:
            delivery = uow.life_events.delivery(delivery_id)
            if (delivery is not None and delivery.receiver_id == guardian.org_id
                    and guardian.role is Role.GUARDIAN
                    and delivery.status is DeliveryStatus.FAILED):
                again = delivery.requeued(now)
                if uow.life_events.requeue(again):
                    uow.audit.record(attempt_entry(again, "requeued", guardian), now)
                    uow.commit()
                    return again
        refuse_as(self.uows, self.clock, "notification.redeliver", guardian,
                  not_found("delivery_unknown",
                            f"no dead-lettered delivery {delivery_id} for your organisation"),
                  detail={"delivery": delivery_id[:64]})

    @staticmethod
    def event_types() -> list[dict[str, Any]]:
        return [{"type": e.type, "title": e.title, "reported_by": e.reported_by.value,
                 "data_schema": e.schema()} for e in EVENT_TYPES.values()]


def _check_receiver(who: Principal) -> None:
    if who.role not in (Role.OFFICER, Role.GUARDIAN):
        raise forbidden("role_not_allowed",
                        "an organisation's officers and guardians read its inbox")


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise invalid("endpoint_invalid", "the endpoint must be an absolute https URL")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise invalid("endpoint_insecure",
                      "notifications carry personal data: use https (http only on loopback)")
    if parts.username or parts.password:
        raise invalid("endpoint_invalid", "put no credentials in the endpoint URL")


def _active_agreements(uow: LifeEventsUnitOfWork, ids: set[int], now: datetime) -> set[int]:
    found = (uow.agreements.get(agreement_id) for agreement_id in sorted(ids))
    return {a.id for a in found if a is not None and a.id is not None
            and a.active_at(now)}


def attempt_entry(delivery: Delivery, outcome: str, actor: Principal | None = None,
                   error: str | None = None) -> AuditEntry:
    detail: dict[str, Any] = {"delivery": delivery.id, "report": delivery.report_id,
                              "attempt": delivery.attempts}
    if error:
        detail["error"] = error[:200]
    return AuditEntry(
        "notification.attempt" if actor is None else f"notification.{outcome}",
        outcome, actor.id if actor else None, delivery.receiver_id,
        agreement_id=delivery.agreement_id, detail=detail)

