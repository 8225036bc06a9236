"""Tell us once in the exchange database: reports, the delivery outbox, endpoints."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    bindparam,
    case,
    delete,
    insert,
    null,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.mappers import agreement_from_row, dataset_from_row
from onceonly.domain.agreements import Agreement, AgreementKind
from onceonly.domain.catalogue import Dataset
from onceonly.domain.life_events import Delivery, DeliveryStatus, Report
from onceonly.services.ports.delivery import Claim

_R, _D, _E = t.life_event_reports, t.deliveries, t.notification_endpoints
_DELIVERY_COLUMNS = [c for c in _D.columns if c.name != "notification"]
_REPORT_COLUMNS = [c for c in _R.columns if c.name != "event"]


def _delivery(row: Any) -> Delivery:
    return Delivery(row.id, row.report_id, row.receiver_id, row.agreement_id, row.mode,
                    DeliveryStatus(row.status), row.attempts, row.next_attempt_at,
                    row.created_at, row.delivered_at, row.last_error)


def _report(row: Any) -> Report:
    return Report(row.id, row.source, row.event_id, row.type, row.person_key,
                  row.informant_key, row.reported_by, row.reporter_org, row.received_at,
                  row.digest, tuple((org, why) for org, why in row.not_told))


# A delivered notification's values are not kept: only its row (who, when, attempts) stays.
_SETTLE = update(_D).where(_D.c.id == bindparam("delivery_id")).values(
    {name: bindparam(name) for name in ("status", "attempts", "mode", "next_attempt_at",
                                        "delivered_at", "last_error")}
    | {"notification": case((bindparam("status") == DeliveryStatus.DELIVERED.value, null()),
                            else_=_D.c.notification)})


def _due(now: datetime) -> Select[tuple[str]]:
    return select(_D.c.id).where(_D.c.status == DeliveryStatus.PENDING.value,
                                 _D.c.mode == "webhook", _D.c.next_attempt_at <= now)


class SqlLifeEvents:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def register(self, event_type: str) -> Dataset | None:
        row = self.conn.execute(select(t.datasets)
                                .where(t.datasets.c.event_type == event_type)).first()
        return dataset_from_row(row) if row else None

    def subscriptions(self, dataset_id: str) -> list[Agreement]:
        rows = self.conn.execute(
            select(t.agreements).where(t.agreements.c.dataset_id == dataset_id,
                                       t.agreements.c.kind == AgreementKind.NOTIFICATION.value)
            .order_by(t.agreements.c.consumer_id, t.agreements.c.id))
        return [agreement_from_row(row) for row in rows]

    def schemes_of(self, org_ids: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {org: [] for org in org_ids}
        rows = self.conn.execute(
            select(t.organisation_schemes.c.org_id, t.organisation_schemes.c.scheme)
            .where(t.organisation_schemes.c.org_id.in_(list(org_ids)))
            .order_by(t.organisation_schemes.c.org_id, t.organisation_schemes.c.scheme))
        for org_id, scheme in rows:
            found[org_id].append(scheme)
        return found

    def endpoints(self, org_ids: Sequence[str]) -> dict[str, str]:
        rows = self.conn.execute(select(_E.c.org_id, _E.c.url)
                                 .where(_E.c.org_id.in_(list(org_ids))))
        return {org_id: url for org_id, url in rows}

    def set_endpoint(self, org_id: str, url: str | None, by: str, at: datetime) -> None:
        if url is None:
            self.conn.execute(delete(_E).where(_E.c.org_id == org_id))
            return
        upsert = (pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert)(_E)
        self.conn.execute(upsert.values(org_id=org_id, url=url, set_by=by, set_at=at)
                          .on_conflict_do_update(index_elements=[_E.c.org_id],
                                                 set_={"url": url, "set_by": by, "set_at": at}))

    def report_by_event(self, source: str, event_id: str) -> Report | None:
        row = self.conn.execute(select(*_REPORT_COLUMNS).where(
            _R.c.source == source, _R.c.event_id == event_id)).first()
        return _report(row) if row else None

    def add_report(self, report: Report, sealed_event: Any,
                   deliveries: Sequence[tuple[Delivery, Any]],
                   claim_token: str | None = None) -> bool:
        # A twin report racing this one (same source and event id) finds the row taken.
        insert_ = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        added = self.conn.execute(insert_(_R).values(
            id=report.id, source=report.source, event_id=report.event_id, type=report.type,
            person_key=report.person_key, informant_key=report.informant_key,
            reported_by=report.reported_by, reporter_org=report.reporter_org,
            received_at=report.received_at, digest=report.digest, event=sealed_event,
            not_told=[list(pair) for pair in report.not_told],
        ).on_conflict_do_nothing().returning(_R.c.id)).first()
        if added is None:
            return False
        if deliveries:
            self.conn.execute(insert(_D), [{
                "id": d.id, "report_id": d.report_id, "receiver_id": d.receiver_id,
                "agreement_id": d.agreement_id, "mode": d.mode, "status": d.status.value,
                "attempts": d.attempts, "next_attempt_at": d.next_attempt_at,
                "created_at": d.created_at, "notification": sealed,
                "claim_token": claim_token if d.mode == "webhook" else None,
            } for d, sealed in deliveries])
        return True

    def report(self, report_id: str) -> Report | None:
        row = self.conn.execute(select(*_REPORT_COLUMNS).where(_R.c.id == report_id)).first()
        return _report(row) if row else None

    def reports_about(self, person_key: str) -> list[Report]:
        rows = self.conn.execute(
            select(*_REPORT_COLUMNS)
            .where((_R.c.person_key == person_key) | (_R.c.informant_key == person_key))
            .order_by(_R.c.received_at.desc()))
        return [_report(row) for row in rows]

    def deliveries_of(self, report_ids: Sequence[str]) -> list[Delivery]:
        rows = self.conn.execute(select(*_DELIVERY_COLUMNS)
                                 .where(_D.c.report_id.in_(list(report_ids)))
                                 .order_by(_D.c.report_id, _D.c.receiver_id))
        return [_delivery(row) for row in rows]

    def failed_for(self, org_id: str, limit: int) -> list[Delivery]:
        rows = self.conn.execute(select(*_DELIVERY_COLUMNS).where(
            _D.c.receiver_id == org_id, _D.c.status == DeliveryStatus.FAILED.value)
            .order_by(_D.c.created_at.desc()).limit(limit))
        return [_delivery(row) for row in rows]

    def delivery(self, delivery_id: str) -> Delivery | None:
        row = self.conn.execute(select(*_DELIVERY_COLUMNS)
                                .where(_D.c.id == delivery_id)).first()
        return _delivery(row) if row else None

    def any_due(self, now: datetime) -> bool:
        return self.conn.execute(select(_due(now).limit(1).exists())).scalar_one()

    def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[Claim]:
        due = _due(now).order_by(_D.c.next_attempt_at).limit(limit)
        if self.conn.dialect.name == "postgresql":
            # Workers sharing PostgreSQL skip each other's rows instead of queueing on them.
            due = due.with_for_update(skip_locked=True)
        token = uuid.uuid4().hex
        rows = self.conn.execute(
            update(_D).where(_D.c.id.in_(due.scalar_subquery()))
            .values(attempts=_D.c.attempts + 1, next_attempt_at=lease_until,
                    claim_token=token)
            .returning(*_D.columns)).all()
        urls = self.endpoints(sorted({row.receiver_id for row in rows}))
        return [Claim(_delivery(row), urls.get(row.receiver_id, ""), row.notification, token)
                for row in rows]

    def settle(self, outcomes: Sequence[tuple[str, Delivery]]) -> set[str]:
        if not outcomes:
            return set()
        # A claim is told apart by its own token, not by its attempt count: a guardian's
        # requeue counts attempts from 0 again and a held delivery gives its attempt back,
        # so the count a stalled worker's claim set can come round again under another's.
        tokens = {d.id: token for token, d in outcomes}
        held = (select(_D.c.id, _D.c.claim_token)
                .where(_D.c.id.in_(list(tokens)), _D.c.status == DeliveryStatus.PENDING.value)
                .order_by(_D.c.id))
        if self.conn.dialect.name == "postgresql":
            # Locked until the write below (SQLite: its write lock), in id order so two
            # workers settling together never deadlock.
            held = held.with_for_update()
        standing = {delivery_id for delivery_id, token in self.conn.execute(held)
                    if token == tokens[delivery_id]}
        if standing:  # one executemany: a worker settles a whole batch in a round trip
            self.conn.execute(_SETTLE, [{
                "delivery_id": d.id, "status": d.status.value, "attempts": d.attempts,
                "mode": d.mode, "next_attempt_at": d.next_attempt_at,
                "delivered_at": d.delivered_at, "last_error": d.last_error,
            } for _, d in outcomes if d.id in standing])
        return standing

    def requeue(self, delivery: Delivery) -> bool:
        done = self.conn.execute(
            update(_D).where(_D.c.id == delivery.id,
                             _D.c.status == DeliveryStatus.FAILED.value)
            .values(status=delivery.status.value, attempts=delivery.attempts,
                    next_attempt_at=delivery.next_attempt_at, last_error=delivery.last_error))
        return done.rowcount == 1

    def inbox(self, org_id: str, limit: int) -> list[tuple[Delivery, Any]]:
        rows = self.conn.execute(
            select(*_D.columns)
            .where(_D.c.receiver_id == org_id, _D.c.status == DeliveryStatus.PENDING.value,
                   _D.c.mode == "inbox")
            .order_by(_D.c.created_at, _D.c.id).limit(limit))
        return [(_delivery(row), row.notification) for row in rows]

    def acknowledge(self, delivery_id: str, org_id: str, at: datetime) -> bool:
        done = self.conn.execute(
            update(_D).where(_D.c.id == delivery_id, _D.c.receiver_id == org_id,
                             _D.c.mode == "inbox",
                             _D.c.status == DeliveryStatus.PENDING.value)
            .values(status=DeliveryStatus.DELIVERED.value, delivered_at=at,
                    attempts=_D.c.attempts + 1, notification=None))
        return done.rowcount == 1
