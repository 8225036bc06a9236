"""What the anomaly detector reads, its rules and state, the alerts it raises and the
officers it suspends."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from onceonly.adapters.db.tables.schema import UTCDateTime, metadata

# What anomaly rules look at: one row per decision (no personal values: the person key, and
# the digits of the identifier asked for, so that runs of sequential identifiers show).
activity = Table(
    "activity",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("officer_id", String(64), nullable=False),
    Column("consumer_id", String(64), nullable=False),
    Column("agreement_id", Integer, nullable=True),
    Column("person_key", String(64), nullable=True),
    Column("number", BigInteger, nullable=True),
    Column("refused", Boolean, nullable=False),
    Index("ix_activity_agreement_id_at", "agreement_id", "at"),
)


# Thresholds for one consumer, or one officer of it, instead of the defaults: the
# operator's (provider_id NULL, for every provider), or one provider guardian's for its
# own agreements with the consumer (these win).
anomaly_rules = Table(
    "anomaly_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("consumer_id", String(64), nullable=False),
    Column("officer_id", String(64), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("threshold", Integer, nullable=False),
    Column("window_seconds", Integer, nullable=False),
    Column("provider_id", String(64), nullable=True),
)


alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("provider_id", String(64), nullable=False, index=True),
    Column("consumer_id", String(64), nullable=False),
    Column("agreement_id", Integer, nullable=False),
    Column("officer_id", String(64), nullable=True),
    Column("rule", String(32), nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # open, resumed, revoked
    Column("resolved_by", String(64), nullable=True),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("resolution", Text, nullable=True),
)


# How far the anomaly detector has read the activity table.
detector_state = Table(
    "detector_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("last_activity_id", BigInteger, nullable=False),
)


# Officers suspended from one provider's data by the anomaly detector, until the provider's
# guardian resumes the alert that suspended them (a revoked alert keeps them out).
officer_suspensions = Table(
    "officer_suspensions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("officer_id", String(64), nullable=False),
    Column("provider_id", String(64), nullable=False),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False),
    Column("suspended_at", UTCDateTime, nullable=False),
    Column("lifted_at", UTCDateTime, nullable=True),
    Column("lifted_by", String(64), nullable=True),
    Index("ix_officer_suspensions_officer_id_provider_id", "officer_id", "provider_id"),
)
