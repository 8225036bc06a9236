"""Standard Webhooks (standardwebhooks.com), asymmetric: `v1a` Ed25519 signatures.

The `standardwebhooks` package (Python, 1.3) signs and verifies only the symmetric `v1`
(HMAC-SHA256) scheme, so `v1a` is done here with `cryptography`'s Ed25519, following the
specification exactly: the signed content is `{webhook-id}.{webhook-timestamp}.{body}`, the
signature is sent as `v1a,` + its base64 in `webhook-signature` (several, space-separated,
may be sent), and a verifying key is shared as `whpk_` + the base64 of its 32 raw bytes.
Receivers in any language can verify with a Standard Webhooks library that has `v1a`
(the Go one does) or these few lines.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
# Deprecated, sent for one more release: a detached compact JWS (RFC 7515 appendix F) of
# the body by the exchange operator's key, checked against /.well-known/jwks.json.
LEGACY_JWS_HEADER = "JWS-Signature"

VERSION = "v1a"
PUBLIC_KEY_PREFIX = "whpk_"
TOLERANCE_SECONDS = 300  # the specification's libraries allow five minutes either way


class WebhookVerificationError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class SignedWebhook:
    """What goes beside a webhook's body: its id (stable across retries, the receiver's
    idempotency key), the attempt's time, the `v1a` signature, and the deprecated JWS."""

    msg_id: str
    timestamp: int  # seconds since the Unix epoch
    signature: str
    jws: str

    def headers(self) -> dict[str, str]:
        return {ID_HEADER: self.msg_id, TIMESTAMP_HEADER: str(self.timestamp),
                SIGNATURE_HEADER: self.signature, LEGACY_JWS_HEADER: self.jws}


def signed_content(msg_id: str, timestamp: int, body: bytes) -> bytes:
    if "." in msg_id:
        raise ValueError("a webhook id may not contain '.'")
    return f"{msg_id}.{timestamp}.".encode() + body


def sign(private_key: Ed25519PrivateKey, msg_id: str, timestamp: int, body: bytes) -> str:
    signature = private_key.sign(signed_content(msg_id, timestamp, body))
    return f"{VERSION},{base64.b64encode(signature).decode('ascii')}"


def public_key_string(raw_public_key: bytes) -> str:
    """The verifying key in Standard Webhooks form: `whpk_` + base64."""
    return PUBLIC_KEY_PREFIX + base64.b64encode(raw_public_key).decode("ascii")


def _public_key(whpk: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(whpk.removeprefix(PUBLIC_KEY_PREFIX), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError(f"not an Ed25519 public key: {whpk!r}") from exc


def verify(headers: Mapping[str, str], body: bytes, public_keys: Iterable[str], *,
           now: datetime, tolerance: int = TOLERANCE_SECONDS) -> str:
    """Check a received webhook: its timestamp within `tolerance` seconds of `now` (an older
    one is a replay), and a `v1a` signature over id, timestamp and body by one of
    `public_keys` (`whpk_...`). Returns the webhook id; raises WebhookVerificationError."""
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get(ID_HEADER)
    timestamp = lowered.get(TIMESTAMP_HEADER)
    signatures = lowered.get(SIGNATURE_HEADER)
    if not (msg_id and timestamp and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or "
                                       "webhook-signature")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise WebhookVerificationError(f"webhook-timestamp is not an integer: {timestamp!r}")
    age = now.timestamp() - int(timestamp)
    if age > tolerance:
        raise WebhookVerificationError(f"webhook-timestamp is {age:.0f}s old: a replay?")
    if -age > tolerance:
        raise WebhookVerificationError(f"webhook-timestamp is {-age:.0f}s ahead")
    try:
        content = signed_content(msg_id, int(timestamp), body)
    except ValueError as exc:
        raise WebhookVerificationError(str(exc)) from exc
    keys = [_public_key(whpk) for whpk in public_keys]
    for versioned in signatures.split(" "):
        version, _, encoded = versioned.partition(",")
        if version != VERSION:
            continue
        try:
            signature = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            continue
        for key in keys:
            try:
                key.verify(signature, content)
            except InvalidSignature:
                continue
            return msg_id
    raise WebhookVerificationError("no v1a signature by a trusted key")
