"""The audit log's heads as C2SP checkpoints, and the bodies of the witness protocol
(C2SP tlog-witness `add-checkpoint`), laid out and read. Pure: no I/O, no keys.

A checkpoint note is its body (origin, tree size, base64 root hash, one line each), an
empty line, and signature lines (`— <name> <signature>`). Where C2SP signs a checkpoint
with an Ed25519 note signature, the exchange's line carries its tree head's compact JWS
(which holds the head's size, root, time and the head before it): the one departure from
the specifications, documented in docs/audit-witnesses.md.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

DASH = "\u2014"
MAX_PROOF = 63  # tlog-witness: no more than 63 consistency proof lines


class MalformedCheckpoint(ValueError):
    """Not the layout the protocol names; the message says where."""


@dataclass(frozen=True, slots=True)
class CheckpointNote:
    origin: str
    tree_size: int
    root_hash: bytes
    signatures: tuple[tuple[str, str], ...]  # (name, signature text), in order

    @property
    def body(self) -> bytes:
        return body_of(self.origin, self.tree_size, self.root_hash)

    def signed_by(self, name: str) -> list[str]:
        return [signature for who, signature in self.signatures if who == name]


@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    """An `add-checkpoint` request: the size the log says the witness cosigned last, the
    consistency proof from it, and the new checkpoint."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: CheckpointNote


def _check_origin(origin: str) -> None:
    if not origin or "\n" in origin or " " in origin:
        raise MalformedCheckpoint("an origin is one non-empty line with no spaces")


def body_of(origin: str, tree_size: int, root_hash: bytes) -> bytes:
    _check_origin(origin)
    return f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode()}\n".encode()


def note(origin: str, tree_size: int, root_hash: bytes, signatures: list[tuple[str, str]]
         ) -> bytes:
    lines = "".join(f"{DASH} {name} {signature}\n" for name, signature in signatures)
    return body_of(origin, tree_size, root_hash) + b"\n" + lines.encode()


def _decimal(text: str, what: str) -> int:
    if not text.isdigit() or not text.isascii() or (text != "0" and text.startswith("0")):
        raise MalformedCheckpoint(f"{what} is not a decimal with no leading zeroes: {text!r}")
    return int(text)


def _hash(text: str, what: str) -> bytes:
    try:
        digest = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise MalformedCheckpoint(f"{what} is not base64") from exc
    if len(digest) != 32:
        raise MalformedCheckpoint(f"{what} is not a SHA-256 hash")
    return digest


def parse_note(text: str) -> CheckpointNote:
    """A checkpoint note: three body lines, an empty line, one or more signature lines."""
    if not text.endswith("\n"):
        raise MalformedCheckpoint("a note ends with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 5 or lines[3] != "":
        raise MalformedCheckpoint("a checkpoint is origin, size and root lines, an empty "
                                  "line, then signature lines")
    origin = lines[0]
    _check_origin(origin)
    signatures = []
    for line in lines[4:]:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH or not parts[1] or not parts[2]:
            raise MalformedCheckpoint(f"not a signature line: {line[:80]!r}")
        signatures.append((parts[1], parts[2]))
    return CheckpointNote(origin, _decimal(lines[1], "the tree size"),
                          _hash(lines[2], "the root hash"), tuple(signatures))


def request_body(old_size: int, proof: list[bytes], checkpoint: bytes) -> bytes:
    lines = [f"old {old_size}"] + [base64.b64encode(h).decode() for h in proof]
    return ("\n".join(lines) + "\n\n").encode() + checkpoint


def parse_request(body: bytes) -> AddCheckpoint:
    try:
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise MalformedCheckpoint("the body is not UTF-8") from exc
    head, separator, checkpoint = text.partition("\n\n")
    if not separator:
        raise MalformedCheckpoint("no empty line between the proof and the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise MalformedCheckpoint("the first line is not `old <size>`")
    proof = lines[1:]
    if len(proof) > MAX_PROOF:
        raise MalformedCheckpoint(f"more than {MAX_PROOF} consistency proof lines")
    return AddCheckpoint(_decimal(lines[0][4:], "the old size"),
                         tuple(_hash(line, "a proof line") for line in proof),
                         parse_note(checkpoint))


def parse_size(text: str) -> int:
    """A `text/x.tlog.size` body: a decimal and a newline."""
    if not text.endswith("\n"):
        raise MalformedCheckpoint("a size ends with a newline")
    return _decimal(text[:-1], "the size")
