"""Corrections told through tell-us-once delivery: a consumer's notice that a record it was
given has been corrected, and a provider's of the corrected value, queued in the outbox
beside the correction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from onceonly.crypto.canonical import canonical_json
from onceonly.domain.life_events import Delivery, DeliveryStatus, Report, correction_notice
from onceonly.services.envelopes import Envelopes
from onceonly.services.life_event_notifications import answer_in
from onceonly.services.life_events import digest_of, sealed_context
from onceonly.services.ports.accuracy import CorrectionNotifier, CorrectionsUnitOfWork
from onceonly.services.ports.clock import Clock


class CorrectionsByDelivery:
    """Tells a consumer of a correction through tell-us-once delivery when it takes
    notifications by webhook (a `gov.onceonly.record.corrected` CloudEvent naming the person
    by the consumer's own identifier); otherwise, or if it has no identifier for the person,
    through `fallback` (the correction notices inbox). The notice carries no values: the
    consumer asks again under its agreement. A provider the exchange does not write is told
    the corrected value the same way (by webhook, or in its inbox), under no agreement."""

    def __init__(self, fallback: CorrectionNotifier, envelopes: Envelopes, clock: Clock,
                 operator_org: str) -> None:
        self.fallback = fallback
        self.envelopes = envelopes
        self.clock = clock
        self.source = f"{operator_org}/corrections"
        self.operator_org = operator_org

    def notify(self, uow: CorrectionsUnitOfWork, *, consumer_id: str, agreement_id: int,
               person_key: str, field: str, correction_id: int,
               release_ids: Sequence[str] = ()) -> None:
        schemes = uow.life_events.schemes_of([consumer_id])[consumer_id]
        ids = uow.people.identifiers(person_key, schemes) if schemes else {}
        subject = next(((s, ids[s]) for s in schemes if s in ids), None)
        if subject is None or not uow.life_events.endpoints([consumer_id]):
            self.fallback.notify(uow, consumer_id=consumer_id, agreement_id=agreement_id,
                                 person_key=person_key, field=field,
                                 correction_id=correction_id, release_ids=release_ids)
            return
        self._queue(uow, consumer_id, agreement_id, subject, person_key, "webhook",
                    f"{agreement_id}-{field}", {
                        "field": field, "correction_id": correction_id,
                        "agreement_id": agreement_id, "release_ids": list(release_ids)})

    def tell_provider(self, uow: CorrectionsUnitOfWork, *, provider_id: str,
                      subject: tuple[str, str], person_key: str, dataset_id: str, field: str,
                      value: Any, correction_id: int) -> None:
        mode = "webhook" if uow.life_events.endpoints([provider_id]) else "inbox"
        self._queue(uow, provider_id, None, subject, person_key, mode, f"provider-{field}", {
            "dataset": dataset_id, "field": field, "value": value,
            "correction_id": correction_id})

    def _queue(self, uow: CorrectionsUnitOfWork, receiver_id: str, agreement_id: int | None,
               subject: tuple[str, str], person_key: str, mode: str, key: str,
               data: dict[str, Any]) -> None:
        now = self.clock.now()
        report_id, delivery_id = str(uuid.uuid4()), str(uuid.uuid4())
        # A correction comes of the person's own challenge: answered in their language.
        note = correction_notice(self.source, report_id, delivery_id, subject, now, data,
                                 answer_in(uow, person_key))
        report = Report(report_id, self.source, f"correction-{data['correction_id']}-{key}",
                        note["type"], person_key, None, "exchange", self.operator_org, now,
                        digest_of(note["data"]), ())
        delivery = Delivery(delivery_id, report_id, receiver_id, agreement_id, mode,
                            DeliveryStatus.PENDING, 0, now, now)
        sealed = self.envelopes.encrypt(receiver_id, canonical_json(note),
                                        sealed_context(delivery_id), keys=uow.data_keys)
        uow.life_events.add_report(report, sealed, [(delivery, sealed)])
