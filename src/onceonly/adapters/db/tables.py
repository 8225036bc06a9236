"""The exchange's own tables. No person attributes live here: the person index holds
identifiers only, the audit log holds field names and hashes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the exchange stores UTC only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

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

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("org_id", String(64), ForeignKey("organisations.id"), nullable=False, index=True),
    Column("private_jwk", JSON, nullable=False),  # an envelope (services/envelopes.py)
    Column("public_jwk", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("active", Boolean, nullable=False),
)

# The organisations' data keys (envelope encryption of what the exchange stores: the
# private signing keys above, as envelopes), each only ever stored wrapped by a master key
# kept outside the database (a key file or a KMS), and the id of the master key that did.
data_keys = Table(
    "data_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("org_id", String(64), ForeignKey("organisations.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("master_key_id", String(64), nullable=False),
    Column("active", Boolean, nullable=False),
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

identifier_schemes = Table(
    "identifier_schemes",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("issuer_id", String(64), ForeignKey("organisations.id"), nullable=False),
    # The identifiers' format, a regular expression (NULL for schemes from before formats).
    Column("pattern", String(500), nullable=True),
)

# Which schemes an organisation knows people by (its own, or one it is given to use).
organisation_schemes = Table(
    "organisation_schemes",
    metadata,
    Column("org_id", String(64), ForeignKey("organisations.id"), primary_key=True),
    Column("scheme", String(32), ForeignKey("identifier_schemes.code"), primary_key=True),
)

# The person index: links between identifiers only, no attributes.
person_links = Table(
    "person_links",
    metadata,
    Column("scheme", String(32), ForeignKey("identifier_schemes.code"), primary_key=True),
    Column("value", String(64), primary_key=True),
    Column("person_key", String(64), nullable=False),
    Index("ix_person_links_person", "person_key", "scheme"),
)

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

# Public keys an organisation registered itself (it keeps the private half): for signing
# its requests (RFC 9421) and for verifying what it receives. A retired key still verifies
# until `not_after` (the overlap), then no longer.
organisation_keys = Table(
    "organisation_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("org_id", String(64), ForeignKey("organisations.id"), nullable=False, index=True),
    Column("public_jwk", JSON, nullable=False),
    Column("signs_requests", Boolean, nullable=False),
    Column("verifies_received", Boolean, nullable=False),
    Column("registered_at", UTCDateTime, nullable=False),
    Column("registered_by", String(64), nullable=False),
    Column("retired_at", UTCDateTime, nullable=True),
    Column("not_after", UTCDateTime, nullable=True),
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

# Secrets the exchange made for itself at set-up (the officer-pseudonym key).
exchange_secrets = Table(
    "exchange_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", LargeBinary, nullable=False),
)

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

# Nonces of signed requests (RFC 9421), kept until their signature would be stale anyway:
# a request seen again within its window is a replay. Shared by every server process; the
# primary key makes remembering a nonce atomic, so of two racing replays only one passes.
request_nonces = Table(
    "request_nonces",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("nonce", String(128), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

# Citizens' accounts: each bound to one person in the index and to a citizen principal.
# Only an argon2 hash of the password is kept; a TOTP secret only sealed (an envelope).
citizen_accounts = Table(
    "citizen_accounts",
    metadata,
    Column("login", String(64), primary_key=True),
    Column("person_key", String(64), nullable=False, unique=True),
    Column("principal_id", String(64), ForeignKey("principals.id"), nullable=False,
           unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("totp", JSON, nullable=True),  # the live TOTP secret, sealed
    Column("totp_pending", JSON, nullable=True),  # one being enrolled, until confirmed
    Column("totp_last_step", BigInteger, nullable=True),  # a code is good once
    Column("created_at", UTCDateTime, nullable=False),
)

# The language each citizen chose on the pages (en or cy), by person: pages are shown in it
# after sign-in, and organisations told of what the citizen reported answer in it.
citizen_languages = Table(
    "citizen_languages",
    metadata,
    Column("person_key", String(64), primary_key=True),
    Column("language", String(8), nullable=False),
    Column("chosen_at", UTCDateTime, nullable=False),
)

# Sign-in sessions of the web pages: the cookie holds a random id, the table its SHA-256.
# A session made from a staff member's API token lives only while that token does.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("principal_id", String(64), ForeignKey("principals.id"), nullable=False,
           index=True),
    Column("token_digest", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

# Failed sign-ins, shared by every server process: one counter per account, per address
# and login, per account's second-factor codes (domain/sign_in.py). The key is a digest,
# so no login or address is kept; a counter quiet for an hour is deleted.
sign_in_throttle = Table(
    "sign_in_throttle",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UTCDateTime, nullable=False, index=True),
    Column("closed_until", UTCDateTime, nullable=True),
)

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


# Identity across organisations. Pairwise pseudonyms handed to consumers that have no
# identifier of their own: each an HMAC of the person key under that consumer's own key,
# kept so the consumer can ask again by it (and no one else can).
pairwise_pseudonyms = Table(
    "pairwise_pseudonyms",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("consumer_id", String(64), ForeignKey("organisations.id"), nullable=False),
    Column("person_key", String(64), nullable=False),
)

# Links the matcher proposed for an organisation's identifiers missing from the person
# index: the match weight and how each field compared (levels, never values); applied at
# once only with an identifier agreement above the acceptance weight, else a guardian of
# the organisation confirms or rejects.
link_candidates = Table(
    "link_candidates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org_id", String(64), ForeignKey("organisations.id"), nullable=False),
    Column("scheme", String(32), ForeignKey("identifier_schemes.code"), nullable=False),
    Column("value", String(64), nullable=False),
    Column("person_key", String(64), nullable=False),
    Column("match_weight", Float, nullable=False),
    Column("identifier_agreement", Boolean, nullable=False),
    Column("comparisons", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # pending, applied, confirmed, rejected
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("reason", Text, nullable=True),
    UniqueConstraint("scheme", "value", "person_key"),
    Index("ix_link_candidates_org_id_status", "org_id", "status"),
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

# Single sign-on (OpenID Connect). An organisation's registered provider: the secret column
# says where the client secret or private key is read from (env:NAME, file:/path), never it.
identity_providers = Table(
    "identity_providers",
    metadata,
    Column("org_id", String(64), ForeignKey("organisations.id"), primary_key=True),
    Column("issuer", String(300), nullable=False),
    Column("client_id", String(200), nullable=False),
    Column("client_auth", String(32), nullable=False),
    Column("secret", String(300), nullable=False),
    Column("person_claim", String(100), nullable=False),
    Column("name_claim", String(100), nullable=False),
    Column("roles_claim", String(100), nullable=False),
    Column("roles", JSON, nullable=False),  # claim value -> role
    Column("org_claim", String(100), nullable=True),
    Column("scopes", JSON, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# A sign-in under way at a provider: the browser's cookie holds a random id, this table its
# digest with the state, nonce and PKCE verifier sent; taken (deleted) by the callback, so
# each is good once. org_id None: a citizen's, through GOV.UK One Login.
sign_in_attempts = Table(
    "sign_in_attempts",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("org_id", String(64), nullable=True),
    Column("state", String(100), nullable=False),
    Column("nonce", String(100), nullable=False),
    Column("code_verifier", String(128), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

# Who a provider's person is here: (issuer, the person's id there) to a principal.
# For One Login the id is its pairwise `sub`, the principal a citizen's.
provider_people = Table(
    "provider_people",
    metadata,
    Column("issuer", String(300), primary_key=True),
    Column("person", String(255), primary_key=True),
    Column("principal_id", String(64), ForeignKey("principals.id"), nullable=False,
           index=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# A web session started through a provider: its ID token, the hint for signing out there too
# (RP-initiated logout).
provider_sessions = Table(
    "provider_sessions",
    metadata,
    Column("session_digest", String(64), primary_key=True),
    Column("org_id", String(64), nullable=True),
    Column("id_token", Text, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

# Citizens One Login proved but the index could not link at once: each waits for a member
# of staff to confirm which person they are (the person the matcher found best).
citizen_link_requests = Table(
    "citizen_link_requests",
    metadata,
    Column("issuer", String(300), primary_key=True),
    Column("person", String(255), primary_key=True),  # One Login's pairwise sub
    Column("person_key", String(64), nullable=False),
    Column("comparisons", JSON, nullable=False),  # field -> level, no values
    Column("status", String(16), nullable=False),  # pending, confirmed, rejected
    Column("created_at", UTCDateTime, nullable=False),
)
