"""Accuracy challenges and corrections in the exchange database, and the default inbox of
correction notices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from onceonly.adapters.db import tables as t
from onceonly.domain.accuracy import Challenge, ChallengeStatus

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
