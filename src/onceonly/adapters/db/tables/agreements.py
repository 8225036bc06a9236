"""Datasets and the agreements to share them: their versions, transitions, usage, kill
switches, bulk extracts and the standing version."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
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

datasets = Table(
    "datasets",
    metadata,
    Column("id", String(100), ForeignKey("systems.id"), primary_key=True),
    Column("provider_id", String(64), ForeignKey("organisations.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("subject_scheme", String(32), ForeignKey("identifier_schemes.code"), nullable=False),
    Column("fields", JSON, nullable=False),
    Column("connector", JSON, nullable=False),
    # Set for a register of life events: agreements on it are notification agreements.
    Column("event_type", String(100), nullable=True, unique=True, index=True),
    # The version now published (dataset_versions keeps every one) and the derived answers
    # (transforms) the provider offers on it.
    Column("version", Integer, nullable=False, server_default="1"),
    Column("offers", JSON, nullable=True),
)


# Every version of a dataset as published: what it was, when and by whom.
dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("dataset_id", String(100), ForeignKey("datasets.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("fields", JSON, nullable=False),
    Column("offers", JSON, nullable=False),
    Column("event_type", String(100), nullable=True),
    Column("connector_kind", String(32), nullable=False),
    # NULL: a version from before versions were kept, recorded when the next one came.
    Column("published_at", UTCDateTime, nullable=True),
    Column("published_by", String(64), nullable=False),
)


agreements = Table(
    "agreements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("provider_id", String(64), ForeignKey("organisations.id"), nullable=False),
    Column("consumer_id", String(64), ForeignKey("organisations.id"), nullable=False, index=True),
    Column("dataset_id", String(100), ForeignKey("datasets.id"), nullable=False),
    Column("grants", JSON, nullable=False),
    Column("purpose_code", String(64), nullable=False),
    Column("purpose_text", Text, nullable=False),
    Column("legal_basis", String(32), nullable=False),
    Column("valid_from", UTCDateTime, nullable=False),
    Column("valid_until", UTCDateTime, nullable=False),
    Column("max_queries_per_day", Integer, nullable=False),
    Column("max_persons_per_day", Integer, nullable=True),
    Column("max_uses", Integer, nullable=True),
    Column("bulk_max_records", Integer, nullable=True),
    Column("kind", String(16), nullable=False, server_default="query"),
    Column("retention_days", Integer, nullable=False),
    Column("hidden_days", Integer, nullable=False, server_default="0"),
    Column("assessment", JSON, nullable=True),
    Column("special_category", Boolean, nullable=False),
    # The UK GDPR Article 9 condition special-category data is shared under.
    Column("special_category_condition", String(40), nullable=True),
    # Its consumer's officers must hold data-protection training in date to use it.
    Column("requires_training", Boolean, nullable=False, server_default=false()),
    Column("status", String(16), nullable=False),
    Column("approvals", JSON, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_agreements_provider", "provider_id"),
)


agreement_transitions = Table(
    "agreement_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agreement_id", Integer, ForeignKey("agreements.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("actor_org", String(64), nullable=False),
    Column("action", String(16), nullable=False),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=False),
    Column("reason", Text, nullable=False),
)


query_usage = Table(
    "query_usage",
    metadata,
    Column("agreement_id", Integer, ForeignKey("agreements.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("persons", Integer, nullable=False, server_default="0"),
)


# The distinct people an agreement was used for on a day (person keys only).
person_usage = Table(
    "person_usage",
    metadata,
    Column("agreement_id", Integer, ForeignKey("agreements.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("person_key", String(64), primary_key=True),
)


# Releases over an agreement's whole life, for agreements with a use count.
agreement_uses = Table(
    "agreement_uses",
    metadata,
    Column("agreement_id", Integer, ForeignKey("agreements.id"), primary_key=True),
    Column("uses", Integer, nullable=False),
)


# A guardian's kill switch: every agreement of one consumer with the guardian's
# organisation suspended in one action, and which ones, so that restoring resumes those.
kill_switches = Table(
    "kill_switches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("provider_id", String(64), ForeignKey("organisations.id"), nullable=False),
    Column("consumer_id", String(64), ForeignKey("organisations.id"), nullable=False),
    Column("agreement_ids", JSON, nullable=False),
    Column("pulled_by", String(64), nullable=False),
    Column("pulled_at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("restored_by", String(64), nullable=True),
    Column("restored_at", UTCDateTime, nullable=True),
    Column("restore_reason", Text, nullable=True),
    Index("ix_kill_switches_provider_consumer", "provider_id", "consumer_id"),
)


# One row: the standing version. Triggers (migration 0022) move it in the same transaction
# as every change to what a query reads of its caller and its agreement (tokens, principals,
# organisations, training, agreements, datasets, kill switches): a server keeps those in
# memory while the version it reads with the day's usage has not moved.
standing_version = Table(
    "standing_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)


# Bulk extracts, by exception: requested by the consumer, approved by the provider's
# guardian, kept only as a JWE to the consumer's public key, downloadable once.
bulk_extracts = Table(
    "bulk_extracts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agreement_id", Integer, ForeignKey("agreements.id"), nullable=False, index=True),
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("cohort", JSON, nullable=True),  # identifiers asked for, cleared once built
    Column("cohort_size", Integer, nullable=False),
    Column("recipient_jwk", JSON, nullable=False),  # the consumer's public key
    Column("status", String(16), nullable=False),  # requested, approved, rejected, downloaded
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("reason", Text, nullable=True),
    Column("jwe", Text, nullable=True),
    Column("records", Integer, nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("downloaded_at", UTCDateTime, nullable=True),
)
