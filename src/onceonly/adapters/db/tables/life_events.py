"""Tell us once: life events as reported, the outbox of deliveries, and where each
organisation takes its notifications."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from onceonly.adapters.db.tables.schema import UTCDateTime, metadata

# Tell us once. A life event as reported (sealed: it holds personal values until delivered),
# once per (source, event id); `not_told` lists subscribers not told and why.
life_event_reports = Table(
    "life_event_reports",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("source", String(200), nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("type", String(100), nullable=False),
    Column("person_key", String(64), nullable=False, index=True),
    Column("informant_key", String(64), nullable=True, index=True),
    Column("reported_by", String(64), nullable=False),
    Column("reporter_org", String(64), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("event", JSON, nullable=False),
    Column("not_told", JSON, nullable=False),
    UniqueConstraint("source", "event_id"),
)


# The outbox: one row per organisation told, written in the report's own transaction.
# A webhook delivery is claimed by a worker by moving `next_attempt_at` past a lease, so a
# worker that dies leaves its claims to be taken again when the lease ends.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("report_id", String(36), ForeignKey("life_event_reports.id"), nullable=False,
           index=True),
    Column("receiver_id", String(64), nullable=False),
    # None: a provider told of a correction to its own record, under no agreement.
    Column("agreement_id", Integer, ForeignKey("agreements.id"), nullable=True),
    Column("mode", String(8), nullable=False),  # webhook, inbox
    Column("status", String(12), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("notification", JSON, nullable=True),  # the CloudEvent, sealed; gone once delivered
    Column("claim_token", String(32), nullable=True),  # the last worker's claim (its lease)
    Index("ix_deliveries_due", "status", "mode", "next_attempt_at"),
    Index("ix_deliveries_receiver", "receiver_id", "status"),
    Index("ix_deliveries_created_at", "created_at"),  # the manager's figures by day
)


# Where an organisation takes its notifications by webhook; without a row, from its inbox.
notification_endpoints = Table(
    "notification_endpoints",
    metadata,
    Column("org_id", String(64), ForeignKey("organisations.id"), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("set_by", String(64), nullable=False),
    Column("set_at", UTCDateTime, nullable=False),
)
