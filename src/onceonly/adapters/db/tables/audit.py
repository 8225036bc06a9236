"""The audit log, its Merkle tree and signed heads, their timestamps and cosignatures, its
exports and retention, and the operator's alerts."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from onceonly.adapters.db.tables.schema import UTCDateTime, metadata

# Append-only (triggers in the migration refuse UPDATE and DELETE).
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("action", String(32), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("reason", String(64), nullable=True),
    Column("actor_id", String(64), nullable=True),
    Column("org_id", String(64), nullable=True),
    Column("agreement_id", Integer, nullable=True),
    Column("provider_id", String(64), nullable=True),
    Column("purpose", String(64), nullable=True),
    Column("person_key", String(64), nullable=True),
    Column("fields", JSON, nullable=False),
    Column("values_hash", String(64), nullable=True),
    Column("detail", JSON, nullable=False),
    Column("hidden_until", UTCDateTime, nullable=True),
    # Newest first for a citizen, a provider's guardian, an officer; no other index, as each
    # one is written by every append.
    Index("ix_audit_log_person_key_seq", "person_key", "seq"),
    Index("ix_audit_log_provider_id_seq", "provider_id", "seq"),
    Index("ix_audit_log_actor_id_seq", "actor_id", "seq"),
)


# One row: the next audit index. Appends take its row lock until they commit, so indexes
# are dense and in commit order, and an integrator never sees a gap it must wait on.
audit_counter = Table(
    "audit_counter",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("next_index", BigInteger, nullable=False),
)


# The Merkle tree's perfect subtrees: (level, index) covers leaves
# [index * 2**level, (index + 1) * 2**level). Written once by the integrator, never changed.
audit_nodes = Table(
    "audit_nodes",
    metadata,
    Column("level", Integer, primary_key=True),
    Column("idx", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("hash", LargeBinary(32), nullable=False),
)


audit_tree_heads = Table(
    "audit_tree_heads",
    metadata,
    Column("tree_size", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("signature", Text, nullable=False),
    # The head signed before this one, as its signed payload names it (the empty tree's for
    # the first); NULL on heads signed before heads were chained.
    Column("previous_size", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
    Column("previous_root", LargeBinary(32), nullable=True),
)


# Alerts for the exchange's operator (its administrators): something only they can mend,
# such as an audit entry that no longer reads, which stops integration at its index.
# Cleared by the exchange itself when the cause is gone.
operator_alerts = Table(
    "operator_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("audit_index", BigInteger, nullable=True),
    Column("detail", Text, nullable=False),
    Column("cleared_at", UTCDateTime, nullable=True),
)


# RFC 3161 timestamps of signed tree heads: the authority's whole answer (a DER
# TimeStampResp), over SHA-256 of the head's compact JWS. One answer a head suffices.
audit_head_timestamps = Table(
    "audit_head_timestamps",
    metadata,
    Column("tree_size", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    Column("authority", String(200), nullable=False),
    Column("token", LargeBinary, nullable=False),
    Column("stamped_at", UTCDateTime, nullable=False),  # the authority's genTime
)


# Witnesses' cosignatures of signed tree heads (C2SP tlog-cosignature): the witness's name,
# the time it signed (seconds) and its 64-byte Ed25519 signature.
audit_head_cosignatures = Table(
    "audit_head_cosignatures",
    metadata,
    Column("tree_size", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    Column("witness", String(200), primary_key=True),
    Column("timestamp", BigInteger, nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
)


# What this exchange, as a witness, last cosigned of each log it watches.
witness_checkpoints = Table(
    "witness_checkpoints",
    metadata,
    Column("origin", String(200), primary_key=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("cosigned_at", UTCDateTime, nullable=False),
)


# Archive bundles written (`onceonly audit export`): entries may be pruned from the live log
# only once a bundle holds them.
audit_exports = Table(
    "audit_exports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("provider_id", String(64), nullable=True),  # None: every entry
    Column("start_at", UTCDateTime, nullable=False),
    Column("end_at", UTCDateTime, nullable=False),
    Column("tree_size", BigInteger, nullable=False),  # the head its proofs lead to
    Column("entries", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),  # of the bundle file
    Column("exported_at", UTCDateTime, nullable=False),
)


# Entries below `pruned_below` were removed from the live log after export (their leaves
# and the tree's nodes stay); the database refuses to delete any other.
audit_retention = Table(
    "audit_retention",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("pruned_below", BigInteger, nullable=False),
)
