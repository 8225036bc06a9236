"""Signatures made with `cryptography` directly (crypto/signing.py) are byte for byte what
joserfc makes for the same key, header and payload, and two independent JOSE libraries
verify them: joserfc (through the client's checks) and Authlib."""

from __future__ import annotations

import base64
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jws

from onceonly.crypto.signing import (
    ALG,
    SignatureInvalid,
    SigningKey,
    _b64url,
    jwks,
    verify_compact,
    verify_detached,
)

with warnings.catch_warnings():  # Authlib asks its users to move to joserfc: here it checks it
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import JsonWebSignature
    from authlib.jose.errors import BadSignatureError
    from authlib.jose.rfc8037.jws_eddsa import EdDSAAlgorithm

ORGANISATIONS = st.sampled_from(["GOV/HMRC", "GOV/DWP", "COM/ACME", "LA/CARDIFF"])


class _Ed25519(EdDSAAlgorithm):
    """Authlib's Ed25519 JWS algorithm under its RFC 9864 name (Authlib knows it as EdDSA)."""

    name = ALG


class AuthlibJws(JsonWebSignature):
    ALGORITHMS_REGISTRY = {**JsonWebSignature.ALGORITHMS_REGISTRY, ALG: _Ed25519()}


def joserfc_compact(key: SigningKey, payload: bytes) -> str:
    """The compact JWS as joserfc makes it: what the exchange signed with before."""
    return jws.serialize_compact({"alg": ALG, "kid": key.kid}, payload, key.key,
                                 algorithms=[ALG])


def authlib_verifies(key: SigningKey, compact: str) -> bytes:
    verified = AuthlibJws(algorithms=[ALG]).deserialize_compact(compact, key.public_jwk())
    assert verified["header"] == {"alg": ALG, "kid": key.kid}
    return bytes(verified["payload"])


@settings(max_examples=200, deadline=None)
@given(org=ORGANISATIONS, payload=st.binary(max_size=2048))
def test_signatures_are_joserfcs_byte_for_byte_and_verify_independently(
        org: str, payload: bytes) -> None:
    key = SigningKey.generate(org)
    before = joserfc_compact(key, payload)
    header, _, signature = before.split(".")
    assert key.sign(payload) == before
    assert key.sign_detached(payload) == f"{header}..{signature}"
    assert key.sign_detached(payload) == key.sign_detached(payload)  # the header reused

    published = jwks([key.public_jwk()])
    assert verify_detached(key.sign_detached(payload), payload, published, org) == key.kid
    if payload:  # the client takes `header..signature` for a detached one
        assert verify_compact(key.sign(payload), published, org) == (payload, key.kid)
    assert authlib_verifies(key, key.sign(payload)) == payload
    detached = key.sign_detached(payload).split(".")
    reattached = f"{detached[0]}.{base64.urlsafe_b64encode(payload).rstrip(b'=').decode()}" \
                 f".{detached[2]}"
    assert authlib_verifies(key, reattached) == payload


@settings(max_examples=50, deadline=None)
@given(payload=st.binary(min_size=1, max_size=256), flip=st.integers(0, 255))
def test_a_changed_payload_fails_every_check(payload: bytes, flip: int) -> None:
    key = SigningKey.generate("GOV/HMRC")
    changed = bytes([payload[0] ^ (flip or 1)]) + payload[1:]
    header, _, signature = key.sign(payload).split(".")
    forged = f"{header}.{base64.urlsafe_b64encode(changed).rstrip(b'=').decode()}.{signature}"
    with pytest.raises(BadSignatureError):
        authlib_verifies(key, forged)
    with pytest.raises(SignatureInvalid):
        verify_detached(key.sign_detached(payload), changed, jwks([key.public_jwk()]),
                        "GOV/HMRC")


def test_a_key_read_back_from_its_jwk_signs_as_before() -> None:
    key = SigningKey.generate("GOV/HMRC")
    again = SigningKey.from_private_jwk("GOV/HMRC", key.private_jwk())
    header, _, signature = joserfc_compact(key, b"{}").split(".")
    assert again.sign_detached(b"{}") == key.sign_detached(b"{}") == f"{header}..{signature}"


@pytest.mark.parametrize(("data", "encoded"), [
    (b"\x00\x00\x17", b"AAAX"),  # ends in a letter the padding strip must keep
    (b"\x00", b"AA"), (b"\x00\x00", b"AAA"), (b"\xfb\xff", b"-_8")])
def test_base64url_drops_only_the_padding(data, encoded):
    assert _b64url(data) == encoded
