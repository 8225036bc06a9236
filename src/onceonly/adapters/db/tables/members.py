"""The exchange's members: organisations, their history and systems, their people and their
API tokens."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
)

from onceonly.adapters.db.tables.schema import UTCDateTime, metadata

organisations = Table(
    "organisations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    # Members: active, suspended (its tokens refused, its agreements suspended) or
    # deregistered; when it joined (NULL for members from before registration).
    Column("status", String(16), nullable=False, server_default="active"),
    Column("registered_at", UTCDateTime, nullable=True),
    # The one member that runs the exchange (set by `onceonly init`).
    Column("operator", Boolean, nullable=False, server_default=false()),
)


# Each member's history: registered, suspended (with the agreements that suspension
# suspended, so resuming resumes exactly those), resumed, deregistered. Never changed.
member_events = Table(
    "member_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org_id", String(64), ForeignKey("organisations.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("action", String(16), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("agreement_ids", JSON, nullable=False),
)


systems = Table(
    "systems",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("org_id", String(64), ForeignKey("organisations.id"), nullable=False),
    Column("title", String(200), nullable=False),
)


principals = Table(
    "principals",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("org_id", String(64), ForeignKey("organisations.id"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("person_key", String(64), nullable=True),
    # A service account acts as one of its organisation's systems.
    # (no foreign key: the use case checks it, and the column drops cleanly on SQLite)
    Column("system_id", String(100), nullable=True),
    Column("created_by", String(64), nullable=True),
    # A disabled person's tokens and web sessions are refused from the next request on.
    Column("disabled_at", UTCDateTime, nullable=True),
    Index("ix_principals_org_id", "org_id"),
)


# An officer's data-protection training, kept by their organisation's administrator.
training_records = Table(
    "training_records",
    metadata,
    Column("principal_id", String(64), ForeignKey("principals.id"), primary_key=True),
    Column("completed_on", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)


api_tokens = Table(
    "api_tokens",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("principal_id", String(64), ForeignKey("principals.id"), nullable=False, index=True),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)
