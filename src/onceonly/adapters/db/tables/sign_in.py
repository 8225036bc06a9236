"""Signing in: citizens' accounts and languages, web sessions, the failed-sign-in throttle,
and single sign-on (providers, attempts, people, sessions)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)

from onceonly.adapters.db.tables.schema import UTCDateTime, metadata

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
