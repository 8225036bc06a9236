"""Signing and canonical JSON."""

from __future__ import annotations

import base64
import json
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st
from joserfc import jws
from joserfc.errors import SecurityWarning

from onceonly.audit.heads import SignedTreeHead, TreeHead, verify_tree_head
from onceonly.crypto.canonical import canonical_json, sha256_hex
from onceonly.crypto.signing import (
    LEGACY_ALG,
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
    assert verify_detached(signature, payload, keys, "GOV/HMRC") == key.kid
    with pytest.raises(SignatureInvalid):
        verify_detached(signature, payload.replace(b"0-12570", b"125141+"), keys, "GOV/HMRC")
    with pytest.raises(SignatureInvalid):
        verify_detached(signature, payload, jwks([other.public_jwk()]), "GOV/HMRC")
    with pytest.raises(SignatureInvalid):
        verify_detached("not.a-jws", payload, keys, "GOV/HMRC")


def test_a_signature_verifies_only_as_its_own_organisations():
    """A JWKS holds every organisation's keys: a release by COM/ACME's key is not one by
    GOV/HMRC, however valid the signature, and a key that names no organisation, or
    another one, is never tried."""
    hmrc, acme = SigningKey.generate("GOV/HMRC"), SigningKey.generate("COM/ACME")
    keys = jwks([hmrc.public_jwk(), acme.public_jwk()])
    payload = canonical_json({"agreement_id": 1})
    forged = acme.sign_detached(payload)
    assert verify_detached(forged, payload, keys, "COM/ACME") == acme.kid
    with pytest.raises(SignatureInvalid, match="GOV/HMRC"):
        verify_detached(forged, payload, keys, "GOV/HMRC")
    with pytest.raises(SignatureInvalid):
        verify_compact(acme.sign(payload), keys, "GOV/HMRC")
    unnamed = {k: v for k, v in acme.public_jwk().items() if k != "org"}
    with pytest.raises(SignatureInvalid, match="no key of GOV/HMRC"):
        verify_detached(forged, payload, {"keys": [unnamed]}, "GOV/HMRC")
    relabelled = {**acme.public_jwk(), "org": "GOV/DWP"}
    with pytest.raises(SignatureInvalid):
        verify_detached(forged, payload, {"keys": [hmrc.public_jwk(), relabelled]},
                        "GOV/HMRC")


def test_new_signatures_are_ed25519_and_raise_no_warning():
    key = SigningKey.generate("GOV/HMRC")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # RFC 9864's deprecation of EdDSA would raise here
        token = key.sign(b"{}")
        signature = key.sign_detached(b"{}")
        assert verify_compact(token, jwks([key.public_jwk()]), "GOV/HMRC")[0] == b"{}"
        # a JWKS pinned before RFC 9864 (its entries say EdDSA) verifies new signatures
        pinned = {"keys": [{**key.public_jwk(), "alg": LEGACY_ALG}]}
        assert verify_detached(signature, b"{}", pinned, "GOV/HMRC") == key.kid
    assert header_of(token) == {"alg": "Ed25519", "kid": key.kid}
    assert header_of(signature) == {"alg": "Ed25519", "kid": key.kid}


def legacy_sign(key: SigningKey, payload: bytes) -> str:
    """A signature as issued before RFC 9864: alg EdDSA."""
    with pytest.warns(SecurityWarning, match="EdDSA is deprecated"):
        return jws.serialize_compact({"alg": LEGACY_ALG, "kid": key.kid}, payload, key.key,
                                     algorithms=[LEGACY_ALG])


def test_signatures_issued_as_eddsa_still_verify_with_joserfcs_warning():
    key, other = SigningKey.generate("GOV/HMRC"), SigningKey.generate("COM/ACME")
    keys = jwks([key.public_jwk(), other.public_jwk()])
    assert all(k["alg"] == "Ed25519" for k in keys["keys"])
    token = legacy_sign(key, b"released")
    header, _, signature = token.split(".")
    with pytest.warns(SecurityWarning, match="EdDSA is deprecated"):
        assert verify_compact(token, keys, "GOV/HMRC") == (b"released", key.kid)
    with pytest.warns(SecurityWarning):
        assert verify_detached(f"{header}..{signature}", b"released", keys,
                               "GOV/HMRC") == key.kid
    with pytest.warns(SecurityWarning), pytest.raises(SignatureInvalid):
        verify_detached(f"{header}..{signature}", b"changed", keys, "GOV/HMRC")
    forged = legacy_sign(other, b"released")
    with pytest.warns(SecurityWarning), pytest.raises(SignatureInvalid):
        verify_compact(forged, keys, "GOV/HMRC")


def test_a_tree_head_signed_as_eddsa_still_verifies():
    operator = SigningKey.generate("GOV/EXCHANGE")
    head = TreeHead(3, bytes(32), 1_700_000_000_000)
    document = SignedTreeHead(head, legacy_sign(operator, head.payload())).as_json()
    with pytest.warns(SecurityWarning):
        assert verify_tree_head(document, jwks([operator.public_jwk()])).head == head


def test_no_algorithm_but_ed25519_and_eddsa_is_taken():
    key = SigningKey.generate("GOV/HMRC")
    header = b64url(json.dumps({"alg": "none", "kid": key.kid}).encode())
    with pytest.raises(SignatureInvalid):
        verify_compact(f"{header}.{b64url(b'x')}.", jwks([key.public_jwk()]), "GOV/HMRC")


def header_of(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_public_jwk_has_no_private_part():
    public = SigningKey.generate("GOV/HMRC").public_jwk()
    assert "d" not in public
    assert public["kty"] == "OKP" and public["crv"] == "Ed25519" and public["alg"] == "Ed25519"


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
    assert verify_detached(signature, b"payload", jwks([key.public_jwk()]), "GOV/HMRC") == key.kid


def test_a_detached_signature_must_be_header_dot_dot_signature():
    key = SigningKey.generate("GOV/HMRC")
    attached = key.sign(b"payload")  # header.payload.signature: not detached
    for bad in (attached, attached.replace(".", "..", 1), "a.b"):
        with pytest.raises(SignatureInvalid, match="not a detached compact JWS"):
            verify_detached(bad, b"payload", jwks([key.public_jwk()]), "GOV/HMRC")


def test_sha256_hex_is_of_the_canonical_bytes():
    assert sha256_hex({"b": 1, "a": 2}) == sha256_hex({"a": 2, "b": 1}) == (
        "d3626ac30a87e6f7a6428233b3c68299976865fa5508e4267c5415c76af7a772")


def test_a_public_jwk_names_its_key_use_and_organisation():
    key = SigningKey.generate("GOV/HMRC")
    public = key.public_jwk()
    assert key.org_id == "GOV/HMRC"
    assert set(public) == {"kty", "crv", "x", "kid", "alg", "use", "org"}
    assert (public["kid"], public["alg"], public["use"], public["org"]) == (
        key.kid, "Ed25519", "sig", "GOV/HMRC")


def test_a_compact_signature_must_carry_its_payload():
    key = SigningKey.generate("GOV/HMRC")
    keys = jwks([key.public_jwk()])
    assert verify_compact(key.sign(b"payload"), keys, "GOV/HMRC") == (b"payload", key.kid)
    for bad in (key.sign_detached(b"payload"), "a.b"):
        with pytest.raises(SignatureInvalid, match="not a compact JWS"):
            verify_compact(bad, keys, "GOV/HMRC")


def test_the_jwks_publishes_a_stored_eddsa_key_as_ed25519():
    key = SigningKey.generate("GOV/HMRC")
    stored = key.public_jwk() | {"alg": LEGACY_ALG}
    assert jwks([stored]) == {"keys": [stored | {"alg": "Ed25519"}]}


@pytest.mark.parametrize("document", [None, [], "keys", {"keys": None}])
def test_a_jwks_that_is_not_one_has_no_key_of_the_signer(document):
    key = SigningKey.generate("GOV/HMRC")
    with pytest.raises(SignatureInvalid, match="^no key of GOV/HMRC to check the signature with$"):
        verify_detached(key.sign_detached(b"x"), b"x", document, "GOV/HMRC")
