"""Decrypting what the exchange encrypted to you: compact JWE (RFC 7516), ECDH-ES key
agreement (X25519 or P-256) with A256GCM. A thin wrapper over joserfc."""

from __future__ import annotations

import warnings
from typing import Any

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey


class DecryptionFailed(ValueError):
    pass


def decrypt_with(private_jwk: dict[str, Any], token: str) -> bytes:
    """For the recipient (the consumer's own software, and the tests)."""
    key = (OKPKey if private_jwk.get("kty") == "OKP" else ECKey).import_key(private_jwk)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            plaintext = jwe.decrypt_compact(token, key).plaintext
    except (JoseError, ValueError) as exc:
        raise DecryptionFailed(f"the extract does not decrypt: {exc}") from exc
    assert plaintext is not None
    return plaintext
