"""Signing keys held in memory: real Ed25519 signatures, one key an organisation."""

from __future__ import annotations

from typing import Any

from onceonly.crypto.signing import SigningKey, jwks


class FakeSigner:
    def __init__(self) -> None:
        self.keys: dict[str, SigningKey] = {}

    def key(self, org_id: str) -> SigningKey:
        return self.keys.setdefault(org_id, SigningKey.generate(org_id))

    def sign_compact_for(self, org_id: str, payload: bytes) -> str:
        return self.key(org_id).sign(payload)

    def sign_for(self, org_id: str, payload: bytes) -> tuple[str, str]:
        key = self.key(org_id)
        return key.sign_detached(payload), key.kid

    def jwks(self) -> dict[str, Any]:
        return jwks(key.public_jwk() for key in self.keys.values())
