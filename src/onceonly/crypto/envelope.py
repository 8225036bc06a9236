"""Envelope encryption: data sealed with AES-256-GCM under a data key, data keys wrapped
under a master key. Pure: no I/O, no key storage (see services/envelopes.py for that).

Thin wrappers over `cryptography`'s AESGCM; no primitive is implemented here.

An envelope is a JSON-able dict:

    {"v": 1, "alg": "A256GCM", "data_key": "dk-...", "nonce": "<base64>",
     "ciphertext": "<base64 of ciphertext || 16-byte tag>"}

Its associated data (authenticated, not stored) is the RFC 8785 canonical JSON of the
version, algorithm, data-key id, owning organisation and the caller's context: where the
value lives (table, column, row, organisation). A byte changed anywhere, or a whole
envelope copied to another row, another organisation or another data key, fails to open.

Wrapping data keys: AES-256-GCM under the master key as well, not AES key wrap (RFC 3394,
`cryptography.hazmat.primitives.keywrap`). Key wrap has no associated data, so a wrapped
key copied from one organisation's row to another's would unwrap there; with GCM the wrap
binds the data key's id and organisation (and the master key's id). Its integrity check is
a 128-bit tag instead of key wrap's 64-bit one, and it is the shape KMS APIs offer
(AWS KMS Encrypt with an EncryptionContext, Google Cloud KMS with additional authenticated
data), so a KMS adapter keeps the same guarantees. Random 96-bit nonces are safe far beyond
the number of data keys a master key will ever wrap.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from onceonly.crypto.canonical import canonical_json

VERSION = 1
ALG = "A256GCM"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
WRAPPED_BYTES = NONCE_BYTES + KEY_BYTES + TAG_BYTES
_FIELDS = frozenset({"v", "alg", "data_key", "nonce", "ciphertext"})


class EnvelopeInvalid(ValueError):
    """An envelope or wrapped key that is malformed, tampered with, or not for this place."""


class MasterKeyUnavailable(RuntimeError):
    """The master keys cannot be had: key file missing, unreadable or corrupt, a key id it
    does not hold, a KMS that does not answer. A configuration problem, not bad data."""


def new_key() -> bytes:
    """A fresh random 256-bit key (a data key or a master key)."""
    return AESGCM.generate_key(bit_length=256)


def check_context(context: Mapping[str, str]) -> dict[str, str]:
    """The context as a plain dict; refuses anything but a non-empty map of text to text."""
    if not isinstance(context, Mapping) or not context:
        raise ValueError("an encryption context is a non-empty mapping, e.g. "
                         "{'table': ..., 'column': ..., 'row': ...}")
    for name, value in context.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise ValueError(f"encryption context entries are text: {name!r}: {value!r}")
    return dict(context)


def is_envelope(value: Any) -> bool:
    """Whether a stored value looks like an envelope (as opposed to a legacy plaintext)."""
    return isinstance(value, Mapping) and "ciphertext" in value and "v" in value


def _aad(data_key_id: str, org_id: str, context: Mapping[str, str]) -> bytes:
    return canonical_json({"v": VERSION, "alg": ALG, "data_key": data_key_id, "org": org_id,
                           "context": check_context(context)})


def seal(key: bytes, data_key_id: str, org_id: str, plaintext: bytes,
         context: Mapping[str, str]) -> dict[str, Any]:
    """Encrypt `plaintext` under data key `key` (whose id is `data_key_id`, belonging to
    `org_id`), bound to `context`."""
    if not isinstance(plaintext, bytes | bytearray):
        raise TypeError("plaintext is bytes")
    _check_key(key)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, bytes(plaintext),
                                     _aad(data_key_id, org_id, context))
    return {"v": VERSION, "alg": ALG, "data_key": data_key_id, "nonce": _b64(nonce),
            "ciphertext": _b64(ciphertext)}


def data_key_id(envelope: Any) -> str:
    """The id of the data key an envelope was sealed with; EnvelopeInvalid if malformed."""
    return _parse(envelope)[0]


def open_sealed(key: bytes, org_id: str, envelope: Any, context: Mapping[str, str]) -> bytes:
    """The plaintext of `envelope`, sealed under data key `key` of `org_id` with `context`."""
    key_id, nonce, ciphertext = _parse(envelope)
    _check_key(key)
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, _aad(key_id, org_id, context))
    except InvalidTag:
        raise EnvelopeInvalid(
            f"the envelope sealed with data key {key_id} does not decrypt here: it was "
            "altered, or belongs to another row, organisation or context") from None


def wrap_key(master_key: bytes, data_key: bytes, context: Mapping[str, str]) -> bytes:
    """A data key encrypted under a master key: nonce || ciphertext || tag (60 bytes)."""
    _check_key(master_key)
    _check_key(data_key)
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(master_key).encrypt(nonce, data_key,
                                              canonical_json(check_context(context)))


def unwrap_key(master_key: bytes, wrapped: bytes, context: Mapping[str, str]) -> bytes:
    _check_key(master_key)
    wrapped = bytes(wrapped)
    if len(wrapped) != WRAPPED_BYTES:
        raise EnvelopeInvalid(f"a wrapped data key is {WRAPPED_BYTES} bytes, not "
                              f"{len(wrapped)}")
    try:
        return AESGCM(master_key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:],
                                          canonical_json(check_context(context)))
    except InvalidTag:
        raise EnvelopeInvalid(
            "the wrapped data key does not unwrap: it was altered, belongs to another "
            "organisation, or was not wrapped by this master key") from None


def _parse(envelope: Any) -> tuple[str, bytes, bytes]:
    if not isinstance(envelope, Mapping):
        raise EnvelopeInvalid(f"an envelope is a JSON object, not {type(envelope).__name__}")
    if set(envelope) != _FIELDS:
        raise EnvelopeInvalid(f"an envelope has exactly the members {sorted(_FIELDS)}, "
                              f"not {sorted(map(str, envelope))}")
    if isinstance(envelope["v"], bool) or envelope["v"] != VERSION:
        raise EnvelopeInvalid(f"unknown envelope version {envelope['v']!r}")
    if envelope["alg"] != ALG:
        raise EnvelopeInvalid(f"unknown envelope algorithm {envelope['alg']!r}")
    key_id = envelope["data_key"]
    if not isinstance(key_id, str) or not key_id:
        raise EnvelopeInvalid("the envelope names no data key")
    nonce = _unb64(envelope["nonce"], "nonce")
    if len(nonce) != NONCE_BYTES:
        raise EnvelopeInvalid(f"the nonce is {NONCE_BYTES} bytes, not {len(nonce)}")
    ciphertext = _unb64(envelope["ciphertext"], "ciphertext")
    if len(ciphertext) < TAG_BYTES:
        raise EnvelopeInvalid("the ciphertext is shorter than its authentication tag")
    return key_id, nonce, ciphertext


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise ValueError(f"an AES-256 key is {KEY_BYTES} bytes")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise EnvelopeInvalid(f"the {what} is base64 text")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise EnvelopeInvalid(f"the {what} is not valid base64") from None
    if _b64(data) != text:  # one encoding per value: no slack bits to hide changes in
        raise EnvelopeInvalid(f"the {what} is not canonical base64")
    return data
