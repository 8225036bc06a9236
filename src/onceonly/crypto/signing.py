"""Ed25519 keys as JWKs, and compact JWS (RFC 7515; detached, appendix F) over canonical JSON.
Signing is here; checking is onceonly_client.signatures, re-exported.

Thin wrappers over joserfc and `cryptography`; no primitive is implemented here. A
signature is made with `cryptography`'s Ed25519 directly over the JWS signing input, its
protected header encoded once a key (what joserfc makes, byte for byte: Ed25519 is
deterministic, and tests/unit/test_signing.py holds the two equal). New signatures name their
algorithm `Ed25519`, the fully specified name of RFC 9864. Signatures made before carry
`EdDSA` (RFC 8037), which RFC 9864 deprecates: they are still accepted, the same Ed25519
signature under its older name, and joserfc warns (SecurityWarning) each time one is read.

A signature is only as good as the signer it is bound to: every check names the
organisation whose key must have made it, and keys of any other organisation in the same
JWKS are never tried.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import OKPKey

from onceonly.crypto import standard_webhooks

# The checking half lives in the client package, which integrators install on their own.
from onceonly_client.signatures import (
    ALG,
    LEGACY_ALG,
    SignatureInvalid,
    verify_compact,
    verify_detached,
)

__all__ = ["ALG", "LEGACY_ALG", "SignatureInvalid", "SigningKey", "jwks", "published",
           "verify_compact", "verify_detached", "webhook_public_key"]


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
        header, signature = self._signed(payload)
        return f"{header}.{_b64url(payload).decode('ascii')}.{signature}"

    def sign_detached(self, payload: bytes) -> str:
        """Compact JWS with the payload part left empty: `header..signature`."""
        header, signature = self._signed(payload)
        return f"{header}..{signature}"

    def _signed(self, payload: bytes) -> tuple[str, str]:
        """The JWS's protected header and its signature over `header.payload` (RFC 7515
        section 5.1), each base64url-encoded."""
        header, private_key = self._signer
        signing_input = header + b"." + _b64url(payload)
        return header.decode("ascii"), _b64url(private_key.sign(signing_input)).decode("ascii")

    @cached_property
    def _signer(self) -> tuple[bytes, Ed25519PrivateKey]:
        """The encoded protected header, the same for every signature by this key, and the
        private key: made once, on first use."""
        header = json.dumps({"alg": ALG, "kid": self.kid}, ensure_ascii=True,
                            separators=(",", ":")).encode("ascii")
        return _b64url(header), self.key.private_key

    def sign_webhook(self, msg_id: str, timestamp: int, body: bytes) -> str:
        """A Standard Webhooks `v1a` signature over the webhook's id, time and body."""
        return standard_webhooks.sign(self.key.private_key, msg_id, timestamp, body)


def _b64url(data: bytes) -> bytes:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def published(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """A public JWK as the JWKS publishes it: naming the algorithm new signatures use (keys
    stored before RFC 9864 say `EdDSA`; the key is the same)."""
    return {**jwk, "alg": ALG}


def jwks(public_jwks: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {"keys": [published(jwk) for jwk in public_jwks]}


def webhook_public_key(jwk: Mapping[str, Any]) -> str:
    """The same public key in Standard Webhooks form (`whpk_...`), for webhook receivers."""
    raw = OKPKey.import_key(dict(jwk)).public_key.public_bytes_raw()
    return standard_webhooks.public_key_string(raw)
