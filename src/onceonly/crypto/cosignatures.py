"""Witness cosignatures of a log's checkpoint body (C2SP tlog-checkpoint), as C2SP
specifies them: Ed25519 cosignatures (tlog-cosignature, `cosignature/v1`), their note
signature lines and the witnesses' verifier keys (signed-note `vkey`).

Ed25519 is the `cryptography` library's; this module only lays out the bytes the
specifications name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

COSIGNATURE_V1 = 0x04  # the signature type of an Ed25519 cosignature/v1 key
DASH = "\u2014"  # a note signature line starts with an em dash and a space
MAX_TIMESTAMP = 2**63 - 1


class CosignatureInvalid(Exception):
    """Not a valid cosignature of this checkpoint by this witness (or not a key)."""


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """SHA-256(name || "\\n" || 0x04 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([COSIGNATURE_V1])
                          + _raw(public_key)).digest()[:4]


@dataclass(frozen=True, slots=True)
class Witness:
    """A witness as a log and its readers know it: its name and public key."""

    name: str
    public_key: Ed25519PublicKey

    @property
    def vkey(self) -> str:
        """The signed-note verifier key: name+hex key id+base64(0x04 || key)."""
        key = base64.b64encode(bytes([COSIGNATURE_V1]) + _raw(self.public_key)).decode()
        return f"{self.name}+{key_id(self.name, self.public_key).hex()}+{key}"


def parse_vkey(vkey: str) -> Witness:
    """A witness from its verifier key; refuses one whose key id does not match."""
    # signed-note: a key name holds no "+" (the base64 key may)
    name, _, rest = vkey.strip().partition("+")
    hex_id, _, rest = rest.partition("+")
    try:
        raw = base64.b64decode(rest, validate=True)
        claimed = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError) as exc:
        raise CosignatureInvalid(f"not a verifier key: {exc}") from exc
    if not name or len(raw) != 33 or raw[0] != COSIGNATURE_V1:
        raise CosignatureInvalid("not an Ed25519 cosignature/v1 verifier key (name+id+key, "
                                 "key type 0x04)")
    witness = Witness(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
    if key_id(name, witness.public_key) != claimed:
        raise CosignatureInvalid(f"the verifier key of {name} names the wrong key id")
    return witness


def signed_message(body: bytes, timestamp: int) -> bytes:
    return b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + body


def cosign(private_key: Ed25519PrivateKey, body: bytes, timestamp: int) -> bytes:
    """The timestamped_signature: timestamp (u64, big-endian) || Ed25519 signature."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError("a cosignature's timestamp is between 0 and 2^63 - 1")
    return struct.pack(">Q", timestamp) + private_key.sign(signed_message(body, timestamp))


def signature_line(witness: Witness, signature: bytes) -> str:
    """The note signature line: em dash, name, base64(key id || timestamped signature)."""
    encoded = base64.b64encode(key_id(witness.name, witness.public_key) + signature).decode()
    return f"{DASH} {witness.name} {encoded}\n"


def verify_cosignature(witness: Witness, body: bytes, signature: bytes) -> int:
    """The time the witness cosigned `body` at; raise CosignatureInvalid otherwise."""
    if len(signature) != 72:
        raise CosignatureInvalid(f"a cosignature is 72 bytes, not {len(signature)}")
    timestamp = struct.unpack(">Q", signature[:8])[0]
    if timestamp > MAX_TIMESTAMP:
        raise CosignatureInvalid("the cosignature's timestamp is beyond 2^63 - 1")
    try:
        witness.public_key.verify(signature[8:], signed_message(body, timestamp))
    except InvalidSignature:
        raise CosignatureInvalid(f"{witness.name}'s cosignature does not verify") from None
    return timestamp


def read_signature_line(witness: Witness, line: str) -> bytes | None:
    """The timestamped signature in `line` if it is this witness's (name and key id), else
    None (C2SP: lines of unknown keys are ignored)."""
    parts = line.rstrip("\n").split(" ")
    if len(parts) != 3 or parts[0] != DASH or parts[1] != witness.name:
        return None
    try:
        raw = base64.b64decode(parts[2], validate=True)
    except binascii.Error:
        return None
    if raw[:4] != key_id(witness.name, witness.public_key):
        return None
    return raw[4:]


def new_key() -> bytes:
    """A new witness key, as PEM (PKCS #8)."""
    return Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def load_key(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CosignatureInvalid(f"not a PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CosignatureInvalid("a witness key is an Ed25519 key")
    return key
