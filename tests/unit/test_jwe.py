"""Encryption to a recipient's public key (compact JWE, ECDH-ES + A256GCM): what it accepts
as a recipient, and that only the holder of the private key reads it."""

from __future__ import annotations

import base64
import json

import pytest
from joserfc.jwk import ECKey, OKPKey

from onceonly.crypto.jwe import (
    CONTENT_TYPE,
    DecryptionFailed,
    RecipientKeyInvalid,
    decrypt_with,
    encrypt_to,
    recipient_key,
)


def pair(kind: str) -> tuple[dict, dict]:
    key = OKPKey.generate_key("X25519") if kind == "OKP" else ECKey.generate_key("P-256")
    return key.as_dict(private=False), key.as_dict(private=True)


def header(token: str) -> dict:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.mark.parametrize("kind", ["OKP", "EC"])
def test_only_the_private_key_holder_reads_it(kind):
    public, private = pair(kind)
    token = encrypt_to(public, b"the cohort's records")
    assert token.count(".") == 4
    assert header(token)["alg"] == "ECDH-ES" and header(token)["enc"] == "A256GCM"
    assert decrypt_with(private, token) == b"the cohort's records"
    _, someone_else = pair(kind)
    with pytest.raises(DecryptionFailed, match="does not decrypt"):
        decrypt_with(someone_else, token)
    assert CONTENT_TYPE == "application/jose"


def test_a_tampered_token_does_not_decrypt():
    public, private = pair("OKP")
    token = encrypt_to(public, b"x")
    head, key, iv, text, tag = token.split(".")
    flipped = ("A" if text[0] != "A" else "B") + text[1:]
    with pytest.raises(DecryptionFailed):
        decrypt_with(private, ".".join([head, key, iv, flipped, tag]))


@pytest.mark.parametrize(("jwk", "message"), [
    (pair("OKP")[1], "public key only"),
    (pair("EC")[1], "public key only"),
    ("not a dict", "public key only"),
    ({"kty": "RSA", "n": "x", "e": "AQAB"}, "X25519 \\(OKP\\) or P-256 \\(EC\\)"),
    ({**pair("OKP")[0], "crv": "Ed25519"}, "X25519 \\(OKP\\) or P-256 \\(EC\\)"),
    ({**pair("EC")[0], "crv": "P-384"}, "X25519 \\(OKP\\) or P-256 \\(EC\\)"),
    ({"kty": "OKP", "crv": "X25519"}, "not a usable public key"),
    ({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}, "not a usable public key"),
])
def test_a_recipient_key_must_be_a_usable_public_x25519_or_p256_key(jwk, message):
    with pytest.raises(RecipientKeyInvalid, match=message):
        recipient_key(jwk)
    with pytest.raises(RecipientKeyInvalid):
        encrypt_to(jwk, b"x")


def test_recipient_keys_are_imported_as_their_type():
    assert isinstance(recipient_key(pair("OKP")[0]), OKPKey)
    assert isinstance(recipient_key(pair("EC")[0]), ECKey)
