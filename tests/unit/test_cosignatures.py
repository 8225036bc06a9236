"""C2SP cosignatures: key ids, verifier keys, the signed message's exact bytes, the
timestamped signature's layout, and signature lines."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from onceonly.crypto.cosignatures import (
    MAX_TIMESTAMP,
    CosignatureInvalid,
    Witness,
    cosign,
    key_id,
    load_key,
    new_key,
    parse_vkey,
    read_signature_line,
    signature_line,
    signed_message,
    verify_cosignature,
)

SEED = bytes(range(32))
KEY = Ed25519PrivateKey.from_private_bytes(SEED)
RAW = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
NAME = "witness.example/w1"
W = Witness(NAME, KEY.public_key())
BODY = b"example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def test_the_key_id_is_the_first_four_bytes_of_the_hash_of_name_newline_type_key():
    assert key_id(NAME, KEY.public_key()) == hashlib.sha256(
        NAME.encode() + b"\n\x04" + RAW).digest()[:4]


def test_the_verifier_key_names_the_witness_its_key_id_and_its_typed_key():
    name, hex_id, key = W.vkey.split("+", 2)
    assert name == NAME
    assert hex_id == key_id(NAME, KEY.public_key()).hex() and len(hex_id) == 8
    assert base64.b64decode(key) == b"\x04" + RAW


def test_a_verifier_key_reads_back_to_the_same_witness():
    read = parse_vkey(W.vkey)
    assert read.name == NAME
    assert read.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw) == RAW
    assert parse_vkey(f"  {W.vkey}\n").name == NAME


KID = key_id(NAME, KEY.public_key()).hex()


def typed(prefix: bytes, raw: bytes = RAW) -> str:
    return base64.b64encode(prefix + raw).decode()


@pytest.mark.parametrize("vkey", [
    "",
    "noplus",
    f"{NAME}+zzzzzzzz+{typed(bytes([4]))}",
    f"{NAME}+{KID}+{typed(bytes([1]))}",
    f"{NAME}+{KID}+{typed(bytes([4]), RAW[:31])}",
    f"{NAME}+00000000+{typed(bytes([4]))}",
    f"+{key_id('', KEY.public_key()).hex()}+{typed(bytes([4]))}",
    f"{NAME}+{KID}+not base64!",
])
def test_a_verifier_key_that_is_not_one_is_refused(vkey):
    with pytest.raises(CosignatureInvalid):
        parse_vkey(vkey)


def test_the_signed_message_is_the_header_the_time_line_and_the_body():
    assert signed_message(BODY, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n" + BODY)


def test_a_cosignature_is_the_big_endian_time_then_the_ed25519_signature():
    signature = cosign(KEY, BODY, 1679315147)
    assert len(signature) == 72
    assert struct.unpack(">Q", signature[:8])[0] == 1679315147
    KEY.public_key().verify(signature[8:], signed_message(BODY, 1679315147))
    assert verify_cosignature(W, BODY, signature) == 1679315147


@pytest.mark.parametrize("timestamp", [-1, MAX_TIMESTAMP + 1])
def test_a_time_outside_the_range_is_not_signed(timestamp):
    with pytest.raises(ValueError):
        cosign(KEY, BODY, timestamp)


def test_the_edges_of_the_time_range_are_signed():
    assert verify_cosignature(W, BODY, cosign(KEY, BODY, 0)) == 0
    assert verify_cosignature(W, BODY, cosign(KEY, BODY, MAX_TIMESTAMP)) == MAX_TIMESTAMP


def test_a_cosignature_of_another_body_time_or_key_does_not_verify():
    signature = cosign(KEY, BODY, 100)
    with pytest.raises(CosignatureInvalid, match="does not verify"):
        verify_cosignature(W, BODY.replace(b"20852163", b"20852164"), signature)
    with pytest.raises(CosignatureInvalid):
        verify_cosignature(W, BODY, struct.pack(">Q", 101) + signature[8:])
    other = Witness(NAME, Ed25519PrivateKey.generate().public_key())
    with pytest.raises(CosignatureInvalid):
        verify_cosignature(other, BODY, signature)
    with pytest.raises(CosignatureInvalid, match="72 bytes"):
        verify_cosignature(W, BODY, signature[:71])
    with pytest.raises(CosignatureInvalid, match="72 bytes"):
        verify_cosignature(W, BODY, signature + b"\0")


def test_a_time_beyond_the_range_is_refused_before_the_signature_is_checked():
    beyond = struct.pack(">Q", MAX_TIMESTAMP + 1) + bytes(64)
    with pytest.raises(CosignatureInvalid, match="2\\^63"):
        verify_cosignature(W, BODY, beyond)


def test_a_signature_line_is_em_dash_name_and_key_id_with_the_signature():
    signature = cosign(KEY, BODY, 7)
    line = signature_line(W, signature)
    assert line == (f"\u2014 {NAME} "
                    f"{base64.b64encode(key_id(NAME, KEY.public_key()) + signature).decode()}\n")
    assert read_signature_line(W, line) == signature
    assert read_signature_line(W, line.rstrip("\n")) == signature


def test_lines_of_other_witnesses_or_keys_are_ignored():
    signature = cosign(KEY, BODY, 7)
    line = signature_line(W, signature)
    assert read_signature_line(Witness("other.example/w", KEY.public_key()), line) is None
    stranger = Witness(NAME, Ed25519PrivateKey.generate().public_key())
    assert read_signature_line(stranger, line) is None
    assert read_signature_line(W, line.replace("\u2014", "-")) is None
    assert read_signature_line(W, line.rstrip("\n") + " extra") is None
    assert read_signature_line(W, f"\u2014 {NAME} not-base64!") is None


def test_a_new_key_reads_back_and_other_keys_are_refused():
    key = load_key(new_key())
    assert isinstance(key, Ed25519PrivateKey)
    with pytest.raises(CosignatureInvalid, match="PEM"):
        load_key(b"not a key")
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    with pytest.raises(CosignatureInvalid, match="Ed25519"):
        load_key(pem)


def refusal(call, *args) -> str:
    with pytest.raises((CosignatureInvalid, ValueError)) as caught:
        call(*args)
    return str(caught.value)


def test_each_refusal_says_what_is_wrong():
    assert refusal(parse_vkey, f"{NAME}+zz+{typed(bytes([4]))}").startswith(
        "not a verifier key: ")
    assert refusal(parse_vkey, f"{NAME}+{KID}+{typed(bytes([1]))}") == (
        "not an Ed25519 cosignature/v1 verifier key (name+id+key, key type 0x04)")
    assert refusal(parse_vkey, f"{NAME}+00000000+{typed(bytes([4]))}") == (
        f"the verifier key of {NAME} names the wrong key id")
    assert refusal(cosign, KEY, BODY, -1) == (
        "a cosignature's timestamp is between 0 and 2^63 - 1")
    beyond = struct.pack(">Q", MAX_TIMESTAMP + 1) + bytes(64)
    assert refusal(verify_cosignature, W, BODY, beyond) == (
        "the cosignature's timestamp is beyond 2^63 - 1")
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    assert refusal(load_key, pem) == "a witness key is an Ed25519 key"


def test_base64_is_read_strictly_and_lines_split_on_single_spaces():
    key = typed(bytes([4]))
    assert refusal(parse_vkey, f"{NAME}+{KID}+{key[:10]}!{key[10:]}").startswith(
        "not a verifier key")
    line = signature_line(W, cosign(KEY, BODY, 7)).rstrip("\n")
    encoded = line.split(" ")[2]
    assert read_signature_line(W, line.replace(encoded, encoded[:10] + "!" + encoded[10:])) \
        is None
    assert read_signature_line(W, line.replace(" ", "  ", 1)) is None
    assert read_signature_line(W, line + " ") is None
    assert read_signature_line(W, line + "\n") is not None
