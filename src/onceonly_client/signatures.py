"""Checking compact JWS (RFC 7515; detached, appendix F) made with Ed25519 keys published in
a JWKS, each check bound to the organisation whose key must have made the signature: keys
of any other organisation in the same JWKS are never tried. Thin wrappers over joserfc; no
primitive is implemented here.

New signatures name their algorithm `Ed25519`, the fully specified name of RFC 9864.
Signatures made before carry `EdDSA` (RFC 8037), which RFC 9864 deprecates: they are still
accepted, the same Ed25519 signature under its older name, and joserfc warns
(SecurityWarning) each time one is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

ALG = "Ed25519"  # RFC 9864: EdDSA over Ed25519, fully specified
LEGACY_ALG = "EdDSA"  # RFC 8037, deprecated by RFC 9864: read, never written
_ACCEPTED = [ALG, LEGACY_ALG]


class SignatureInvalid(Exception):
    pass


def verify_detached(signature: str, payload: bytes, jwks_document: Mapping[str, Any],
                    signer: str) -> str:
    """Check a detached JWS made by organisation `signer` against a JWKS; return the kid
    that signed it."""
    parts = signature.split(".")
    if len(parts) != 3 or parts[1] != "":
        raise SignatureInvalid("not a detached compact JWS (expected header..signature)")
    return _verify(signature, jwks_document, signer, payload)[1]


def verify_compact(token: str, jwks_document: Mapping[str, Any],
                   signer: str) -> tuple[bytes, str]:
    """Check a compact JWS made by organisation `signer` against a JWKS; return its payload
    and the kid that signed it."""
    parts = token.split(".")
    if len(parts) != 3 or parts[1] == "":
        raise SignatureInvalid("not a compact JWS (expected header.payload.signature)")
    return _verify(token, jwks_document, signer, None)


def _signer_keys(jwks_document: Mapping[str, Any], signer: str) -> list[dict[str, Any]]:
    """The Ed25519 keys the JWKS says are `signer`'s: each entry must name its organisation
    (`org`), so a key of one organisation never verifies another's signature."""
    keys = jwks_document.get("keys") if isinstance(jwks_document, Mapping) else None
    return [dict(key) for key in keys or []
            if isinstance(key, Mapping) and key.get("org") == signer
            and key.get("kty") == "OKP" and key.get("crv") == "Ed25519"]


def _verify(token: str, jwks_document: Mapping[str, Any], signer: str,
            detached_payload: bytes | None) -> tuple[bytes, str]:
    # Without `alg`: the accepted names (checked by joserfc against the token's header) are
    # both the one Ed25519 signature, whichever the stored entry happens to say.
    keys = [{k: v for k, v in key.items() if k != "alg"}
            for key in _signer_keys(jwks_document, signer)]
    if not keys:
        raise SignatureInvalid(f"no key of {signer} to check the signature with")
    try:
        verified = jws.deserialize_compact(token, KeySet.import_key_set({"keys": keys}),
                                           payload=detached_payload, algorithms=_ACCEPTED)
    except (JoseError, ValueError) as exc:
        raise SignatureInvalid(f"signature does not verify as {signer}'s: {exc}") from exc
    return verified.payload, str(verified.headers()["kid"])
