"""Consents in the exchange database, and the consent check a governed query makes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, text, update

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.tables import UTCDateTime
from onceonly.domain.consent import Consent, fields_covered
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
