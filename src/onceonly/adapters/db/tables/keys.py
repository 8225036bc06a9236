"""Keys: the organisations' hosted signing keys and the data keys that seal them, the public
keys they registered themselves, the signed requests' nonces and the exchange's own
secrets."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    LargeBinary,
    String,
    Table,
)

from onceonly.adapters.db.tables.schema import UTCDateTime, metadata

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


# Secrets the exchange made for itself at set-up (the officer-pseudonym key).
exchange_secrets = Table(
    "exchange_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", LargeBinary, nullable=False),
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
