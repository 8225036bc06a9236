"""Who is told of a life event, and the notification each is sent: the organisations with
an active notification agreement on its register, each naming the person by its own
identifier (services/life_events.py writes them to the outbox)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from onceonly.domain.agreements import Agreement, LegalBasis
from onceonly.domain.languages import answer_language
from onceonly.domain.life_events import (
    Delivery,
    DeliveryStatus,
    LifeEvent,
    Recipient,
    Report,
    choose_recipients,
    notification,
)
from onceonly.domain.organisations import Principal, Role
from onceonly.services.ports.accuracy import CorrectionsUnitOfWork
from onceonly.services.ports.life_events import LifeEventsUnitOfWork


def fan_out(uow: LifeEventsUnitOfWork, who: Principal, event: LifeEvent,
                 register_id: str,
                 person_key: str, informant_key: str | None,
                 chosen: Sequence[str] | None, digest: str,
                 now: datetime
                 ) -> tuple[Report, list[tuple[Delivery, dict[str, Any]]], dict[str, str]]:
        """Every organisation with an active notification agreement on the register, named
        by its own identifier for the person; one that holds no record of them is not told."""
        subscribed = subscribers_of(uow, register_id, now)
        told = choose_recipients(subscribed, chosen)
        orgs = [r.agreement.consumer_id for r in told]
        schemes = uow.life_events.schemes_of(orgs)
        ids = uow.people.identifiers(person_key, sorted({s for v in schemes.values() for s in v}))
        webhooks = uow.life_events.endpoints(orgs)
        report_id = str(uuid.uuid4())
        language = answer_in(uow, person_key if who.role is Role.CITIZEN else informant_key)
        not_told = [(r.agreement.consumer_id, "not_chosen") for r in subscribed
                    if r not in told]
        outbox: list[tuple[Delivery, dict[str, Any]]] = []
        for recipient in told:
            org = recipient.agreement.consumer_id
            subject = next(((s, ids[s]) for s in schemes[org] if s in ids), None)
            if subject is None:
                not_told.append((org, "no_record"))
                continue
            delivery_id = str(uuid.uuid4())
            outbox.append((
                Delivery(delivery_id, report_id, org, _id(recipient.agreement),
                         "webhook" if org in webhooks else "inbox", DeliveryStatus.PENDING,
                         0, now, now),
                notification(event, report_id, delivery_id, recipient.agreement, subject,
                             language)))
        report = Report(report_id, event.source, event.id, event.type, person_key,
                        informant_key, who.id, who.org_id, now, digest,
                        tuple(sorted(not_told)))
        return report, outbox, webhooks


def subscribers_of(uow: LifeEventsUnitOfWork, register_id: str, now: datetime) -> list[Recipient]:
    """Active notification agreements on the register; a statutory duty must be told."""
    return [Recipient(a, a.legal_basis is LegalBasis.STATUTORY_DUTY)
            for a in uow.life_events.subscriptions(register_id) if a.active_at(now)]


def _id(agreement: Agreement) -> int:
    assert agreement.id is not None
    return agreement.id


def answer_in(uow: LifeEventsUnitOfWork | CorrectionsUnitOfWork,
               citizen: str | None) -> str | None:
    """The language the organisations told should answer the citizen (a person key) who
    caused a notification in; None when no citizen did (a registrar's own report)."""
    return answer_language(uow.languages.of(citizen)) if citizen else None
