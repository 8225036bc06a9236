"""Signing HTTP requests (RFC 9421 HTTP Message Signatures, Ed25519, with an RFC 9530
Content-Digest of the body): a thin wrapper over the `http-message-signatures` library.
The rules the exchange applies when verifying are in services/request_signatures.py."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms

ALG = algorithms.ED25519  # alg="ed25519"
LABEL = "onceonly"
COVERED = ("@method", "@target-uri")  # and "content-digest" when there is a body


class _PrivateKey(HTTPSignatureKeyResolver):
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self.key = key

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey:
        return self.key

    def resolve_public_key(self, key_id: str) -> Any:
        raise NotImplementedError


def sign(msg: Any, private_key: Ed25519PrivateKey, kid: str, body: bytes | None, *,
         created: datetime | None = None, nonce: str | None = None) -> None:
    """Sign a request in place (`msg`: method, url, headers with item assignment, as an
    httpx.Request has): Signature-Input, Signature and, for a body, Content-Digest."""
    signer = HTTPMessageSigner(signature_algorithm=ALG, key_resolver=_PrivateKey(private_key))
    signer.sign(msg, key_id=kid, created=created or datetime.now(UTC),
                nonce=nonce or secrets.token_urlsafe(24), label=LABEL,
                covered_component_ids=COVERED, body=body or None)
