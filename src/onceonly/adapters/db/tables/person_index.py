"""The person index (identifiers only, no attributes), the schemes it knows people by, and
the links proposed or confirmed into it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from onceonly.adapters.db.tables.schema import UTCDateTime, metadata

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
