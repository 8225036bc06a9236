"""Consents, accuracy challenges and corrections in the exchange database; the consent
check a governed query makes; and the default inbox of correction notices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, text, update

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.tables import UTCDateTime
from onceonly.domain.accuracy import Challenge, ChallengeStatus
from onceonly.domain.consent import Consent, fields_covered
from onceonly.services.ports.accuracy import CorrectionsUnitOfWork
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.consents import ConsentCheckUnitOfWork

_C = t.consents.c
_CONSENT_COLUMNS = (_C.id, _C.person_key, _C.purpose, _C.consumer_id, _C.fields,
                    _C.granted_at, _C.expires_at, _C.withdrawn_at)
# Consent.applies in SQL, over the consents aliased `c`, with :purpose, :at and :consumer:
# the one form of it both reads of live consents use (this module's and identity.py's
# naming of a person); tests/integration/test_consent_rule.py holds it to the domain.
LIVE_CONSENT = ("c.purpose = :purpose AND c.withdrawn_at IS NULL AND c.granted_at <= :at "
                "AND c.expires_at > :at AND (c.consumer_id IS NULL OR c.consumer_id = :consumer)")
# The read every consent-based query makes, built once (see repository.py on why); the
# fields then compared by fields_covered.
_LIVE_FIELDS = (text(f"SELECT c.fields FROM consents c WHERE c.person_key = :person_key "
                     f"AND {LIVE_CONSENT}")
                .bindparams(bindparam("at", type_=UTCDateTime))
                .columns(fields=_C.fields.type))


def _consent(row: Any) -> Consent:
    return Consent(row.id, row.person_key, row.purpose, row.consumer_id, tuple(row.fields),
                   row.granted_at, row.expires_at, row.withdrawn_at)


class SqlConsents:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, consent: Consent, receipt: str) -> None:
        self.conn.execute(insert(t.consents).values(
            id=consent.id, person_key=consent.person_key, purpose=consent.purpose,
            consumer_id=consent.consumer_id, fields=list(consent.fields),
            granted_at=consent.granted_at, expires_at=consent.expires_at,
            grant_receipt=receipt))

    def get(self, consent_id: str) -> Consent | None:
        row = self.conn.execute(select(*_CONSENT_COLUMNS).where(_C.id == consent_id)).first()
        return _consent(row) if row else None

    def withdraw(self, consent: Consent, receipt: str) -> bool:
        result = self.conn.execute(
            update(t.consents).where(_C.id == consent.id, _C.withdrawn_at.is_(None))
            .values(withdrawn_at=consent.withdrawn_at, withdrawal_receipt=receipt))
        return result.rowcount == 1

    def of_person(self, person_key: str) -> list[tuple[Consent, str, str | None]]:
        rows = self.conn.execute(
            select(*_CONSENT_COLUMNS, _C.grant_receipt, _C.withdrawal_receipt)
            .where(_C.person_key == person_key)
            .order_by(_C.granted_at.desc(), _C.id))
        return [(_consent(row), row.grant_receipt, row.withdrawal_receipt) for row in rows]

    def live_fields(self, person_key: str, purpose: str, consumer_id: str,
                    now: datetime) -> list[tuple[str, ...]]:
        rows = self.conn.execute(_LIVE_FIELDS, {"person_key": person_key, "purpose": purpose,
                                                "consumer": consumer_id, "at": now})
        return [tuple(fields) for (fields,) in rows]


class SqlConsentRegistry:
    """The consent check, read in the query's own transaction: no cache, so a withdrawal
    committed by any server process refuses the very next query everywhere."""

    def has_consent(self, uow: ConsentCheckUnitOfWork, person_key: str, consumer_id: str,
                    purpose: str,
                    fields: Sequence[str], now: datetime) -> bool:
        return fields_covered(uow.consents.live_fields(person_key, purpose, consumer_id, now),
                              fields)


_CH = t.challenges.c


def _challenge(row: Any) -> Challenge:
    return Challenge(row.id, row.person_key, row.provider_id, row.dataset_id, row.field,
                     row.what_is_wrong, row.proposed_value, ChallengeStatus(row.status),
                     row.raised_at, row.decided_by, row.decided_at, row.reason)


class SqlChallenges:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, challenge: Challenge) -> Challenge:
        new_id = self.conn.execute(insert(t.challenges).values(
            person_key=challenge.person_key, provider_id=challenge.provider_id,
            dataset_id=challenge.dataset_id, field=challenge.field,
            what_is_wrong=challenge.what_is_wrong, proposed_value=challenge.proposed_value,
            status=challenge.status.value, raised_at=challenge.raised_at,
        ).returning(_CH.id)).scalar_one()
        return replace(challenge, id=int(new_id))

    def get(self, challenge_id: int) -> Challenge | None:
        row = self.conn.execute(select(t.challenges).where(_CH.id == challenge_id)).first()
        return _challenge(row) if row else None

    def open_for(self, person_key: str, dataset_id: str, field: str) -> Challenge | None:
        row = self.conn.execute(select(t.challenges).where(
            _CH.person_key == person_key, _CH.dataset_id == dataset_id, _CH.field == field,
            _CH.status.in_([ChallengeStatus.OPEN.value, ChallengeStatus.CORRECTING.value]),
        ).limit(1)).first()
        return _challenge(row) if row else None

    def save(self, challenge: Challenge, was: Challenge) -> bool:
        # Compare-and-set on the state read: of two guardians deciding at once, one wins.
        unchanged = _CH.decided_at.is_(None) if was.decided_at is None \
            else _CH.decided_at == was.decided_at
        result = self.conn.execute(
            update(t.challenges)
            .where(_CH.id == challenge.id, _CH.status == was.status.value, unchanged)
            .values(status=challenge.status.value, decided_by=challenge.decided_by,
                    decided_at=challenge.decided_at, reason=challenge.reason,
                    what_is_wrong=challenge.what_is_wrong,
                    proposed_value=challenge.proposed_value))
        return result.rowcount == 1

    def of_person(self, person_key: str) -> list[Challenge]:
        rows = self.conn.execute(select(t.challenges).where(_CH.person_key == person_key)
                                 .order_by(_CH.id.desc()))
        return [_challenge(row) for row in rows]

    def for_provider(self, provider_id: str) -> list[Challenge]:
        rows = self.conn.execute(select(t.challenges).where(_CH.provider_id == provider_id)
                                 .order_by(_CH.id.desc()))
        return [_challenge(row) for row in rows]

    def add_correction(self, challenge_id: int, by: str, at: datetime,
                       values_hash: str) -> int:
        return int(self.conn.execute(insert(t.corrections).values(
            challenge_id=challenge_id, corrected_by=by, corrected_at=at,
            values_hash=values_hash).returning(t.corrections.c.id)).scalar_one())

    def add_notice(self, correction_id: int, consumer_id: str, agreement_id: int,
                   person_key: str, field: str, release_ids: Sequence[str],
                   at: datetime) -> int:
        return int(self.conn.execute(insert(t.correction_notices).values(
            correction_id=correction_id, consumer_id=consumer_id, agreement_id=agreement_id,
            person_key=person_key, field=field, release_ids=list(release_ids), created_at=at,
        ).returning(t.correction_notices.c.id)).scalar_one())

    def notices_for(self, consumer_id: str, limit: int) -> list[dict[str, Any]]:
        n, c, ch = t.correction_notices.c, t.corrections.c, _CH
        rows = self.conn.execute(
            select(n.id, n.correction_id, n.agreement_id, n.field, n.release_ids,
                   n.created_at, ch.dataset_id, ch.field.label("source_field"))
            .join(t.corrections, c.id == n.correction_id)
            .join(t.challenges, ch.id == c.challenge_id)
            .where(n.consumer_id == consumer_id).order_by(n.id.desc()).limit(limit))
        return [dict(row._mapping) for row in rows]


class InboxCorrectionNotifier:
    """The default notifier: each notice goes to the consumer's inbox of correction notices
    in the exchange database, in the correction's own transaction (GET
    /v1/correction-notices). A delivery adapter (tell us once) can take its place."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def notify(self, uow: CorrectionsUnitOfWork, *, consumer_id: str, agreement_id: int,
               person_key: str, field: str, correction_id: int,
               release_ids: Sequence[str] = ()) -> None:
        uow.challenges.add_notice(correction_id, consumer_id, agreement_id, person_key, field,
                                  release_ids, self.clock.now())
