"""Encryption to a recipient's public key: compact JWE (RFC 7516), ECDH-ES key agreement
(RFC 7518 §4.6; X25519 per RFC 8037, or P-256) with A256GCM. Thin wrappers over joserfc."""

from __future__ import annotations

import warnings
from typing import Any

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey

# Decrypting is the recipient's, in the client package; re-exported here.
from onceonly_client.jwe import DecryptionFailed, decrypt_with

__all__ = ["CONTENT_TYPE", "HEADER", "DecryptionFailed", "RecipientKeyInvalid", "decrypt_with",
           "encrypt_to", "recipient_key"]

HEADER = {"alg": "ECDH-ES", "enc": "A256GCM"}
CONTENT_TYPE = "application/jose"


class RecipientKeyInvalid(ValueError):
    pass


def recipient_key(jwk: dict[str, Any]) -> OKPKey | ECKey:
    """A public key to encrypt to: X25519 or P-256, and never a private key (a private key
    sent to the exchange is already compromised)."""
    if not isinstance(jwk, dict) or "d" in jwk:
        raise RecipientKeyInvalid("send the public key only (a JWK without 'd')")
    try:
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "X25519":
            return OKPKey.import_key(jwk)
        if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            return ECKey.import_key(jwk)
    except (JoseError, ValueError, TypeError) as exc:
        raise RecipientKeyInvalid(f"not a usable public key: {exc}") from exc
    raise RecipientKeyInvalid("the key must be an X25519 (OKP) or P-256 (EC) public JWK")


def encrypt_to(jwk: dict[str, Any], plaintext: bytes) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jwe.encrypt_compact(dict(HEADER), plaintext, recipient_key(jwk))
