"""Pairwise pseudonyms, as OpenID Connect pairwise subject identifiers: an HMAC-SHA256 of
the person key under a key of the consumer's own, derived with HKDF (RFC 5869) from one
secret of the exchange. Stable for one consumer; across consumers they share nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def consumer_key(secret: bytes, consumer_id: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"onceonly pairwise pseudonym " + consumer_id.encode()).derive(secret)


def pseudonym(key: bytes, person_key: str) -> str:
    """52 characters of base32 (lower case): fits an identifier's pattern and length."""
    digest = hmac.new(key, person_key.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=").lower()
