"""Standard Webhooks `v1a` (Ed25519) signatures: the specification's exact format, and what a
receiver must refuse."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from onceonly.crypto.signing import SigningKey, webhook_public_key
from onceonly.crypto.standard_webhooks import (
    SignedWebhook,
    WebhookVerificationError,
    verify,
)

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
BODY = b'{"specversion":"1.0","id":"death-1","type":"gov.onceonly.death.registered"}'
MSG_ID = "0b7c2f6e-0d53-4a5e-9d0b-5c1f0e2a7d11"


def signed(key: SigningKey, *, at: datetime = NOW, body: bytes = BODY) -> dict[str, str]:
    timestamp = int(at.timestamp())
    return SignedWebhook(MSG_ID, timestamp, key.sign_webhook(MSG_ID, timestamp, body),
                         key.sign_detached(body)).headers()


def test_the_signature_is_the_specifications_v1a_over_id_timestamp_and_body():
    key = SigningKey.generate("GOV/EXCHANGE")
    headers = signed(key)
    assert headers["webhook-id"] == MSG_ID
    assert headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    version, encoded = headers["webhook-signature"].split(",")
    assert version == "v1a"
    # checked with nothing of ours: the public key from its `whpk_` form, the content as the
    # specification spells it
    whpk = webhook_public_key(key.public_jwk())
    assert whpk.startswith("whpk_")
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(whpk.removeprefix("whpk_")))
    public.verify(base64.b64decode(encoded),
                  f"{MSG_ID}.{int(NOW.timestamp())}.".encode() + BODY)
    assert verify(headers, BODY, [whpk], now=NOW) == MSG_ID


def test_a_receiver_refuses_a_tampered_body_a_strangers_key_and_a_replay():
    key, stranger = SigningKey.generate("GOV/EXCHANGE"), SigningKey.generate("GOV/EXCHANGE")
    trusted = [webhook_public_key(key.public_jwk())]
    with pytest.raises(WebhookVerificationError, match="no v1a signature"):
        verify(signed(key), BODY + b" ", trusted, now=NOW)
    with pytest.raises(WebhookVerificationError, match="no v1a signature"):
        verify(signed(stranger), BODY, trusted, now=NOW)
    with pytest.raises(WebhookVerificationError, match="old"):
        verify(signed(key, at=NOW - timedelta(seconds=301)), BODY, trusted, now=NOW)
    with pytest.raises(WebhookVerificationError, match="ahead"):
        verify(signed(key, at=NOW + timedelta(seconds=301)), BODY, trusted, now=NOW)
    assert verify(signed(key, at=NOW - timedelta(seconds=299)), BODY, trusted, now=NOW)


@pytest.mark.parametrize("change", [
    {"webhook-id": ""}, {"webhook-timestamp": "1764928800.5"}, {"webhook-timestamp": "-5"},
    {"webhook-signature": "v1,c2lnbmF0dXJl"}, {"webhook-signature": "v1a,not base64!"},
    {"webhook-id": "a.b"},
])
def test_malformed_headers_are_refused(change: dict[str, str]):
    key = SigningKey.generate("GOV/EXCHANGE")
    with pytest.raises(WebhookVerificationError):
        verify(signed(key) | change, BODY, [webhook_public_key(key.public_jwk())], now=NOW)


def test_any_of_several_signatures_and_keys_may_match_and_names_are_case_blind():
    """Rotation: the header may carry several signatures, the receiver trust several keys."""
    old, new = SigningKey.generate("GOV/EXCHANGE"), SigningKey.generate("GOV/EXCHANGE")
    headers = signed(new)
    both = {"Webhook-Id": MSG_ID, "Webhook-Timestamp": headers["webhook-timestamp"],
            "Webhook-Signature": f"v1,aG1hYw== {headers['webhook-signature']}"}
    keys = [webhook_public_key(old.public_jwk()), webhook_public_key(new.public_jwk())]
    assert verify(both, BODY, keys, now=NOW) == MSG_ID
    with pytest.raises(WebhookVerificationError, match="not an Ed25519 public key"):
        verify(headers, BODY, ["whpk_short"], now=NOW)
