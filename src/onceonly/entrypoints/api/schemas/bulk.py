"""Bulk extracts: the ask (with the key the extract is encrypted to) and each as it stands."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictInt, WithJsonSchema

from onceonly.domain.bulk import BulkExtract
from onceonly.entrypoints.api.schemas.common import (
    MAX_AGREEMENT_ID,
    AsWhole,
    PurposeCode,
    Strict,
    SubjectIn,
)

MAX_BULK_SUBJECTS = 400

_COORDINATE = {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$",
               "description": "32 bytes, base64url without padding"}

# The public JWKs an extract can be encrypted to (crypto/jwe.py: recipient_key), with the
# RFC 7517 members it reads typed as it checks them.
PUBLIC_JWK: dict[str, Any] = {
    "type": "object",
    "properties": {
        "kty": {"enum": ["OKP", "EC"]},
        "crv": {"enum": ["X25519", "P-256"]},
        "x": _COORDINATE,
        "y": _COORDINATE,
        "kid": {"type": "string"},
        "use": {"enum": ["enc", "sig"]},
        "alg": {"type": "string"},
        "key_ops": {"type": "array", "items": {"enum": [
            "sign", "verify", "encrypt", "decrypt", "wrapKey", "unwrapKey", "deriveKey",
            "deriveBits"]}},
    },
    "required": ["kty", "crv", "x"],
    "additionalProperties": False,
    "oneOf": [
        {"properties": {"kty": {"const": "OKP"}, "crv": {"const": "X25519"}},
         "not": {"required": ["y"]}},
        {"properties": {"kty": {"const": "EC"}, "crv": {"const": "P-256"}},
         "required": ["y"]},
    ],
}


class BulkExtractIn(Strict):
    agreement_id: Annotated[StrictInt, Field(gt=0, le=MAX_AGREEMENT_ID), AsWhole]
    purpose: PurposeCode
    # Within the 64 KiB body limit whatever the identifiers: a larger cohort is several asks.
    subjects: Annotated[list[SubjectIn], Field(min_length=1, max_length=MAX_BULK_SUBJECTS)]
    recipient_jwk: Annotated[dict[str, Any], WithJsonSchema(PUBLIC_JWK)] = Field(
        description="the consumer's public key (X25519 or P-256 JWK) the extract is "
                    "encrypted to; never a private key (no `d`). The key is checked on "
                    "intake (a P-256 point must lie on the curve): `recipient_key_invalid`")


class BulkExtractOut(BaseModel):
    id: int
    agreement_id: int
    requested_by: str
    requested_at: datetime
    purpose: str
    cohort_size: int
    status: str = Field(description="requested, approved, rejected or downloaded")
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    records: int | None = Field(description="people in the extract, once built")
    sha256: str | None = Field(description="SHA-256 of the extract's plaintext, as audited")
    expires_at: datetime | None

    @classmethod
    def of(cls, e: BulkExtract) -> BulkExtractOut:
        assert e.id is not None
        return cls(id=e.id, agreement_id=e.agreement_id, requested_by=e.requested_by,
                   requested_at=e.requested_at, purpose=e.purpose, cohort_size=e.cohort_size,
                   status=e.status, decided_by=e.decided_by, decided_at=e.decided_at,
                   reason=e.reason, records=e.records, sha256=e.sha256,
                   expires_at=e.expires_at)
