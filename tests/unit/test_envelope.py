"""Envelope encryption, the pure part: sealing under a data key, wrapping data keys under a
master key; every change to any byte, or to where a value belongs, is refused."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onceonly.crypto import envelope as e
from onceonly.crypto.envelope import EnvelopeInvalid

KEY = bytes(range(32))
CONTEXT = {"table": "signing_keys", "column": "private_jwk", "row": "kid-1", "org": "GOV/HMRC"}


def sealed(plaintext: bytes = b'{"d":"secret"}', context=None) -> dict:
    return e.seal(KEY, "dk-1", "GOV/HMRC", plaintext, context or CONTEXT)


def flip(text: str, index: int, mask: int = 0x01) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[index % len(raw)] ^= mask
    return base64.b64encode(bytes(raw)).decode()


@given(st.binary(max_size=2048))
def test_seal_then_open_gives_the_plaintext_back(plaintext):
    envelope = sealed(plaintext)
    assert e.open_sealed(KEY, "GOV/HMRC", envelope, CONTEXT) == plaintext


def test_an_envelope_is_json_with_no_trace_of_the_plaintext():
    envelope = sealed(b"the private half of a signing key")
    assert json.loads(json.dumps(envelope)) == envelope
    assert set(envelope) == {"v", "alg", "data_key", "nonce", "ciphertext"}
    assert (envelope["v"], envelope["alg"], envelope["data_key"]) == (1, "A256GCM", "dk-1")
    assert b"private half" not in base64.b64decode(envelope["ciphertext"])
    assert b"private half" not in json.dumps(envelope).encode()


def test_the_same_plaintext_seals_differently_each_time():
    first, second = sealed(b"same"), sealed(b"same")
    assert first["nonce"] != second["nonce"]
    assert first["ciphertext"] != second["ciphertext"]


@given(st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_any_changed_byte_of_the_ciphertext_or_its_tag_is_refused(index, mask):
    envelope = sealed()
    envelope["ciphertext"] = flip(envelope["ciphertext"], index, mask)
    with pytest.raises(EnvelopeInvalid, match="does not decrypt here"):
        e.open_sealed(KEY, "GOV/HMRC", envelope, CONTEXT)


@given(st.integers(min_value=0, max_value=11), st.integers(min_value=1, max_value=255))
def test_any_changed_byte_of_the_nonce_is_refused(index, mask):
    envelope = sealed()
    envelope["nonce"] = flip(envelope["nonce"], index, mask)
    with pytest.raises(EnvelopeInvalid, match="does not decrypt here"):
        e.open_sealed(KEY, "GOV/HMRC", envelope, CONTEXT)


@pytest.mark.parametrize("context", [
    {**CONTEXT, "row": "kid-2"},              # copied to another row
    {**CONTEXT, "org": "GOV/DWP"},            # to another organisation's row
    {**CONTEXT, "column": "public_jwk"},      # to another column
    {**CONTEXT, "table": "outbox"},           # to another table
    {**CONTEXT, "extra": "x"},
    {k: v for k, v in CONTEXT.items() if k != "row"},
], ids=["row", "org", "column", "table", "added", "removed"])
def test_an_envelope_opened_in_another_context_is_refused(context):
    with pytest.raises(EnvelopeInvalid, match="another row, organisation or context"):
        e.open_sealed(KEY, "GOV/HMRC", sealed(), context)


def test_an_envelope_claimed_by_another_organisations_data_key_is_refused():
    with pytest.raises(EnvelopeInvalid):
        e.open_sealed(KEY, "GOV/DWP", sealed(), CONTEXT)


def test_an_envelope_relabelled_with_another_data_key_id_is_refused():
    envelope = {**sealed(), "data_key": "dk-2"}
    with pytest.raises(EnvelopeInvalid):
        e.open_sealed(KEY, "GOV/HMRC", envelope, CONTEXT)


def test_an_envelope_under_another_key_is_refused():
    with pytest.raises(EnvelopeInvalid):
        e.open_sealed(e.new_key(), "GOV/HMRC", sealed(), CONTEXT)


def _malformed():
    good = sealed()
    nonce = base64.b64decode(good["nonce"])
    return [
        ("not a dict", "is a JSON object"),
        ({k: v for k, v in good.items() if k != "nonce"}, "exactly the members"),
        ({**good, "extra": 1}, "exactly the members"),
        ({**good, "v": 2}, "unknown envelope version"),
        ({**good, "v": True}, "unknown envelope version"),
        ({**good, "alg": "A128GCM"}, "unknown envelope algorithm"),
        ({**good, "data_key": ""}, "names no data key"),
        ({**good, "data_key": 7}, "names no data key"),
        ({**good, "nonce": "%%%"}, "not valid base64"),
        ({**good, "nonce": 12}, "base64 text"),
        ({**good, "nonce": base64.b64encode(nonce[:8]).decode()}, "nonce is 12 bytes"),
        ({**good, "ciphertext": base64.b64encode(b"short").decode()}, "shorter than"),
        ({**good, "ciphertext": good["ciphertext"].rstrip("=") + "é"}, "not valid base64"),
    ]


@pytest.mark.parametrize(("envelope", "message"), _malformed())
def test_a_malformed_envelope_is_refused_with_a_reason(envelope, message):
    with pytest.raises(EnvelopeInvalid, match=message):
        e.open_sealed(KEY, "GOV/HMRC", envelope, CONTEXT)


def test_base64_with_changed_slack_bits_is_refused():
    """In padded base64 the last character's low bits carry nothing: a changed one decodes
    to the same bytes. Such a change is refused rather than silently accepted."""
    padded = sealed(b"")
    text = padded["ciphertext"]  # the 16-byte tag alone: ends with "=="
    assert text.endswith("==")
    last = text[-3]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    sibling = alphabet[alphabet.index(last) ^ 1]
    padded["ciphertext"] = text[:-3] + sibling + "=="
    assert base64.b64decode(padded["ciphertext"]) == base64.b64decode(text)
    with pytest.raises(EnvelopeInvalid, match="canonical"):
        e.open_sealed(KEY, "GOV/HMRC", padded, CONTEXT)


@pytest.mark.parametrize("context", [{}, {"row": 1}, {1: "x"}, "row=1", None])
def test_a_context_is_a_non_empty_map_of_text(context):
    with pytest.raises(ValueError, match="context"):
        e.seal(KEY, "dk-1", "GOV/HMRC", b"x", context)


def test_keys_are_32_bytes():
    assert len(e.new_key()) == 32 and e.new_key() != e.new_key()
    with pytest.raises(ValueError, match="32 bytes"):
        e.seal(b"short", "dk-1", "GOV/HMRC", b"x", CONTEXT)
    with pytest.raises(TypeError):
        e.seal(KEY, "dk-1", "GOV/HMRC", "text, not bytes", CONTEXT)


# --- wrapping data keys -------------------------------------------------------------------

MASTER = bytes(range(100, 132))
WRAP_CONTEXT = {"purpose": "onceonly-data-key", "data_key": "dk-1", "org": "GOV/HMRC"}


def test_wrap_then_unwrap_gives_the_data_key_back():
    data_key = e.new_key()
    wrapped = e.wrap_key(MASTER, data_key, WRAP_CONTEXT)
    assert len(wrapped) == e.WRAPPED_BYTES == 60
    assert data_key not in wrapped
    assert e.unwrap_key(MASTER, wrapped, WRAP_CONTEXT) == data_key


@given(st.integers(min_value=0, max_value=59), st.integers(min_value=1, max_value=255))
def test_any_changed_byte_of_a_wrapped_key_is_refused(index, mask):
    wrapped = bytearray(e.wrap_key(MASTER, e.new_key(), WRAP_CONTEXT))
    wrapped[index] ^= mask
    with pytest.raises(EnvelopeInvalid, match="does not unwrap"):
        e.unwrap_key(MASTER, bytes(wrapped), WRAP_CONTEXT)


@pytest.mark.parametrize("context", [
    {**WRAP_CONTEXT, "org": "GOV/DWP"}, {**WRAP_CONTEXT, "data_key": "dk-2"}])
def test_a_wrapped_key_moved_to_another_organisation_or_id_is_refused(context):
    wrapped = e.wrap_key(MASTER, e.new_key(), WRAP_CONTEXT)
    with pytest.raises(EnvelopeInvalid, match="does not unwrap"):
        e.unwrap_key(MASTER, wrapped, context)


def test_a_wrapped_key_under_another_master_key_or_cut_short_is_refused():
    wrapped = e.wrap_key(MASTER, e.new_key(), WRAP_CONTEXT)
    with pytest.raises(EnvelopeInvalid, match="does not unwrap"):
        e.unwrap_key(e.new_key(), wrapped, WRAP_CONTEXT)
    with pytest.raises(EnvelopeInvalid, match="60 bytes, not 59"):
        e.unwrap_key(MASTER, wrapped[:-1], WRAP_CONTEXT)


def test_is_envelope_tells_an_envelope_from_a_plaintext_jwk():
    assert e.is_envelope(sealed())
    assert not e.is_envelope({"kty": "OKP", "crv": "Ed25519", "x": "..", "d": ".."})
    assert not e.is_envelope({"v": 1}) and not e.is_envelope({"ciphertext": ".."})
    assert not e.is_envelope("text")


def test_an_envelope_sealed_by_an_earlier_release_still_opens():
    # Data at rest outlives the code: the authenticated data (version, algorithm, data key,
    # organisation, context) must stay byte for byte what it was when this was sealed.
    stored = {"v": 1, "alg": "A256GCM", "data_key": "dk-1", "nonce": "kkHVm9nhvlquj739",
              "ciphertext": "pfiWMOMQU9SK21StIRwZu9cNhzPPuqh4xP6dDf9h"}
    assert e.open_sealed(KEY, "GOV/HMRC", stored, CONTEXT) == b'{"d":"secret"}'
