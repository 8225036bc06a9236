"""Signing and canonical JSON."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onceonly.crypto.canonical import canonical_json, sha256_hex
from onceonly.crypto.signing import (
    SignatureInvalid,
    SigningKey,
    jwks,
    verify_compact,
    verify_detached,
)
from onceonly.crypto.tokens import new_token, token_digest

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_canonical_json_is_stable_under_reordering(value):
    again = json.loads(json.dumps(value, sort_keys=False))
    assert canonical_json(again) == canonical_json(value)


def test_canonical_json_sorts_keys_and_drops_whitespace():
    assert canonical_json({"b": 1, "a": [True, None]}) == b'{"a":[true,null],"b":1}'


def test_detached_signature_round_trip_and_tamper():
    key = SigningKey.generate("GOV/HMRC")
    other = SigningKey.generate("GOV/DWP")
    payload = canonical_json({"data": {"income_band": "0-12570"}})
    signature = key.sign_detached(payload)
    header, empty, _ = signature.split(".")
    assert empty == ""
    keys = jwks([key.public_jwk(), other.public_jwk()])
    assert verify_detached(signature, payload, keys) == key.kid
    with pytest.raises(SignatureInvalid):
        verify_detached(signature, payload.replace(b"0-12570", b"125141+"), keys)
    with pytest.raises(SignatureInvalid):
        verify_detached(signature, payload, jwks([other.public_jwk()]))
    with pytest.raises(SignatureInvalid):
        verify_detached("not.a-jws", payload, keys)


def test_public_jwk_has_no_private_part():
    public = SigningKey.generate("GOV/HMRC").public_jwk()
    assert "d" not in public
    assert public["kty"] == "OKP" and public["crv"] == "Ed25519" and public["alg"] == "EdDSA"


def test_tokens_are_random_have_256_bits_and_are_stored_only_as_digests():
    token = new_token()
    assert token.startswith("oo_") and len(token) == 3 + 43  # 32 bytes, base64url
    assert new_token() != token
    assert token_digest("oo_x") == (
        "f5c0e7af401dcb870f902ed7441964ed383853d3f6d501e073aa88468411971d")


def test_a_signing_key_round_trips_through_its_private_jwk():
    key = SigningKey.generate("GOV/HMRC")
    again = SigningKey.from_private_jwk("GOV/HMRC", key.private_jwk())
    assert (again.kid, again.org_id) == (key.kid, "GOV/HMRC")
    assert "d" in key.private_jwk() and key.private_jwk()["d"] == again.private_jwk()["d"]
    signature = again.sign_detached(b"payload")
    assert verify_detached(signature, b"payload", jwks([key.public_jwk()])) == key.kid


def test_a_detached_signature_must_be_header_dot_dot_signature():
    key = SigningKey.generate("GOV/HMRC")
    attached = key.sign(b"payload")  # header.payload.signature: not detached
    for bad in (attached, attached.replace(".", "..", 1), "a.b"):
        with pytest.raises(SignatureInvalid, match="not a detached compact JWS"):
            verify_detached(bad, b"payload", jwks([key.public_jwk()]))


def test_sha256_hex_is_of_the_canonical_bytes():
    assert sha256_hex({"b": 1, "a": 2}) == sha256_hex({"a": 2, "b": 1}) == (
        "d3626ac30a87e6f7a6428233b3c68299976865fa5508e4267c5415c76af7a772")


def test_a_public_jwk_names_its_key_use_and_organisation():
    key = SigningKey.generate("GOV/HMRC")
    public = key.public_jwk()
    assert key.org_id == "GOV/HMRC"
    assert set(public) == {"kty", "crv", "x", "kid", "alg", "use", "org"}
    assert (public["kid"], public["alg"], public["use"], public["org"]) == (
        key.kid, "EdDSA", "sig", "GOV/HMRC")


def test_a_compact_signature_must_carry_its_payload():
    key = SigningKey.generate("GOV/HMRC")
    keys = jwks([key.public_jwk()])
    assert verify_compact(key.sign(b"payload"), keys) == (b"payload", key.kid)
    for bad in (key.sign_detached(b"payload"), "a.b"):
        with pytest.raises(SignatureInvalid, match="not a compact JWS"):
            verify_compact(bad, keys)
