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
    signed_content,
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


def trusted_key() -> tuple[SigningKey, list[str]]:
    key = SigningKey.generate("GOV/EXCHANGE")
    return key, [webhook_public_key(key.public_jwk())]


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_each_missing_header_is_refused_by_name(missing: str):
    key, keys = trusted_key()
    headers = {name: value for name, value in signed(key).items() if name != missing}
    with pytest.raises(WebhookVerificationError) as caught:
        verify(headers, BODY, keys, now=NOW)
    assert str(caught.value) == "missing webhook-id, webhook-timestamp or webhook-signature"


def test_each_refusal_says_why():
    key, keys = trusted_key()

    def why(headers: dict[str, str], *, body: bytes = BODY, trusted: list[str] = keys) -> str:
        with pytest.raises(WebhookVerificationError) as caught:
            verify(headers, body, trusted, now=NOW)
        return str(caught.value)

    assert why(signed(key) | {"webhook-timestamp": "12.5"}) == (
        "webhook-timestamp is not an integer: '12.5'")
    assert why(signed(key, at=NOW - timedelta(seconds=301))) == (
        "webhook-timestamp is 301s old: a replay?")
    assert why(signed(key, at=NOW + timedelta(seconds=301))) == (
        "webhook-timestamp is 301s ahead")
    assert why(signed(key) | {"webhook-id": "a.b"}) == "a webhook id may not contain '.'"
    assert why(signed(key), body=b"") == "no v1a signature by a trusted key"
    assert why(signed(key), trusted=["whpk_short"]) == "not an Ed25519 public key: 'whpk_short'"


def test_a_webhook_id_with_a_dot_cannot_be_signed():
    """The signed content is `id.timestamp.body`: a dot in the id would make it ambiguous."""
    with pytest.raises(ValueError, match=r"^a webhook id may not contain '\.'$"):
        signed_content("a.b", 1, b"")
    assert signed_content("a", 1, b"{}") == b"a.1.{}"


def test_the_tolerance_is_inclusive_either_way():
    key, keys = trusted_key()
    for at in (NOW - timedelta(seconds=300), NOW + timedelta(seconds=300)):
        assert verify(signed(key, at=at), BODY, keys, now=NOW) == MSG_ID


def test_base64_with_stray_characters_is_not_a_key_or_a_signature():
    """Strict base64: a decoder that skipped what it cannot read would accept altered text."""
    key, keys = trusted_key()
    headers = signed(key)
    version, encoded = headers["webhook-signature"].split(",")
    with pytest.raises(WebhookVerificationError, match="no v1a signature"):
        verify(headers | {"webhook-signature": f"{version},{encoded[:8]}!{encoded[8:]}"},
               BODY, keys, now=NOW)
    with pytest.raises(WebhookVerificationError, match="not an Ed25519 public key"):
        verify(headers, BODY, [keys[0][:10] + "!" + keys[0][10:]], now=NOW)


def test_an_unreadable_signature_does_not_hide_a_good_one_after_it():
    key, keys = trusted_key()
    headers = signed(key)
    both = headers | {"webhook-signature": f"v1a,not!base64 {headers['webhook-signature']}"}
    assert verify(both, BODY, keys, now=NOW) == MSG_ID


def test_signatures_are_separated_by_spaces_only():
    """The specification delimits the list by a space; any other whitespace is not one."""
    key, keys = trusted_key()
    headers = signed(key)
    tabbed = headers | {"webhook-signature": f"v1,aG1hYw==\t{headers['webhook-signature']}"}
    with pytest.raises(WebhookVerificationError, match="no v1a signature"):
        verify(tabbed, BODY, keys, now=NOW)
