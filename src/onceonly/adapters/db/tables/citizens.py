"""What citizens hold and do: consents, accuracy challenges and the corrections and notices
that follow them."""

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
)

from onceonly.adapters.db.tables.schema import UTCDateTime, metadata

# Citizens' consents: for a purpose, to one consumer or any (consumer_id null), for named
# fields, until an expiry or a withdrawal; with the signed receipts (compact JWS) of both.
consents = Table(
    "consents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("person_key", String(64), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("consumer_id", String(64), ForeignKey("organisations.id"), nullable=True),
    Column("fields", JSON, nullable=False),
    Column("granted_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("withdrawn_at", UTCDateTime, nullable=True),
    Column("grant_receipt", Text, nullable=False),
    Column("withdrawal_receipt", Text, nullable=True),
    # Every consent-based query looks up the person's consents for the purpose.
    Index("ix_consents_person_key_purpose", "person_key", "purpose"),
)


# Accuracy challenges, in the provider's guardian queue. The citizen's words and proposed
# value are kept only while the challenge is open, and cleared when it is decided.
challenges = Table(
    "challenges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_key", String(64), nullable=False, index=True),
    Column("provider_id", String(64), ForeignKey("organisations.id"), nullable=False),
    Column("dataset_id", String(100), ForeignKey("datasets.id"), nullable=False),
    Column("field", String(64), nullable=False),
    Column("what_is_wrong", Text, nullable=True),
    Column("proposed_value", Text, nullable=True),
    Column("status", String(16), nullable=False),  # open, correcting, corrected, rejected
    Column("raised_at", UTCDateTime, nullable=False),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("reason", Text, nullable=True),
    Index("ix_challenges_provider_id_status", "provider_id", "status"),
)


# Corrections made by a provider's guardian, and the notices of each to the consumers that
# received the old value (the default inbox of correction notices: nothing is lost).
corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("challenge_id", Integer, ForeignKey("challenges.id"), nullable=False, unique=True),
    Column("corrected_by", String(64), nullable=False),
    Column("corrected_at", UTCDateTime, nullable=False),
    Column("values_hash", String(64), nullable=False),  # of the new value, never the value
)


correction_notices = Table(
    "correction_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("correction_id", Integer, ForeignKey("corrections.id"), nullable=False),
    Column("consumer_id", String(64), ForeignKey("organisations.id"), nullable=False),
    Column("agreement_id", Integer, ForeignKey("agreements.id"), nullable=False),
    Column("person_key", String(64), nullable=False),
    Column("field", String(64), nullable=False),
    Column("release_ids", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_correction_notices_consumer_id_id", "consumer_id", "id"),
)
