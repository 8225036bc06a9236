"""Ed25519 keys as JWKs, and detached compact JWS (RFC 7515 appendix F) over canonical JSON.

Thin wrappers over joserfc; no primitive is implemented here. The algorithm name is
"EdDSA" (RFC 8037), which every JOSE library verifies; RFC 9864's fully-specified
"Ed25519" name is newer and not yet universally supported, so joserfc's deprecation
warning for "EdDSA" is silenced for exactly this use.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey

ALG = "EdDSA"
_ALGS = [ALG]


class SignatureInvalid(Exception):
    pass


@dataclass(frozen=True)
class SigningKey:
    kid: str
    org_id: str
    key: OKPKey

    @classmethod
    def generate(cls, org_id: str) -> SigningKey:
        key = OKPKey.generate_key("Ed25519")
        return cls(kid=key.thumbprint(), org_id=org_id, key=key)

    @classmethod
    def from_private_jwk(cls, org_id: str, jwk: dict[str, Any]) -> SigningKey:
        key = OKPKey.import_key(jwk)
        return cls(kid=key.thumbprint(), org_id=org_id, key=key)

    def private_jwk(self) -> dict[str, Any]:
        return dict(self.key.as_dict(private=True))

    def public_jwk(self) -> dict[str, Any]:
        jwk = dict(self.key.as_dict(private=False))
        jwk.update(kid=self.kid, alg=ALG, use="sig", org=self.org_id)
        return jwk

    def sign(self, payload: bytes) -> str:
        """Compact JWS (`header.payload.signature`)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return jws.serialize_compact(
                {"alg": ALG, "kid": self.kid}, payload, self.key, algorithms=_ALGS
            )

    def sign_detached(self, payload: bytes) -> str:
        """Compact JWS with the payload part left empty: `header..signature`."""
        header, _, signature = self.sign(payload).split(".")
        return f"{header}..{signature}"


def jwks(public_jwks: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"keys": list(public_jwks)}


def verify_detached(signature: str, payload: bytes, jwks_document: dict[str, Any]) -> str:
    """Check a detached JWS against a JWKS; return the kid that signed it."""
    parts = signature.split(".")
    if len(parts) != 3 or parts[1] != "":
        raise SignatureInvalid("not a detached compact JWS (expected header..signature)")
    return _verify(signature, jwks_document, payload)[1]


def verify_compact(token: str, jwks_document: dict[str, Any]) -> tuple[bytes, str]:
    """Check a compact JWS against a JWKS; return its payload and the kid that signed it."""
    parts = token.split(".")
    if len(parts) != 3 or parts[1] == "":
        raise SignatureInvalid("not a compact JWS (expected header.payload.signature)")
    return _verify(token, jwks_document, None)


def _verify(token: str, jwks_document: dict[str, Any],
            detached_payload: bytes | None) -> tuple[bytes, str]:
    try:
        keys = KeySet.import_key_set(jwks_document)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            verified = jws.deserialize_compact(token, keys, payload=detached_payload,
                                               algorithms=_ALGS)
    except (JoseError, ValueError) as exc:
        raise SignatureInvalid(f"signature does not verify: {exc}") from exc
    return verified.payload, str(verified.headers()["kid"])
