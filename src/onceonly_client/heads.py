"""Signed tree heads as the exchange serves them: the log operator's signed statement of
the audit log's size and root hash, read and checked with the operator's public keys."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from onceonly_client.signatures import SignatureInvalid, verify_compact

DEFAULT_LOG_ORG = "GOV/EXCHANGE"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


@dataclass(frozen=True, slots=True)
class HeadRef:
    """A tree head named by another: its size and root hash."""

    tree_size: int
    root_hash: bytes

    def as_json(self) -> dict[str, Any]:
        return {"tree_size": self.tree_size, "root_hash": b64(self.root_hash)}


@dataclass(frozen=True, slots=True, eq=False)
class TreeHead:
    """Equal to any head of the same fields, the exchange's own (which can also sign) too."""

    tree_size: int
    root_hash: bytes
    timestamp: int  # milliseconds since the Unix epoch, as RFC 9162 counts time
    # The head signed just before this one (the empty tree for the first), so a head deleted
    # from the middle of the chain is missed by the next. None: a head signed before heads
    # were chained, whose payload has no `previous`.
    previous: HeadRef | None = None

    def as_json(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"tree_size": self.tree_size,
                                  "root_hash": b64(self.root_hash),
                                  "timestamp": self.timestamp}
        if self.previous is not None:
            fields["previous"] = self.previous.as_json()
        return fields

    def _fields(self) -> tuple[int, bytes, int, HeadRef | None]:
        return self.tree_size, self.root_hash, self.timestamp, self.previous

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TreeHead):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    head: TreeHead
    signature: str  # compact JWS (Ed25519) whose payload is the head's RFC 8785 JSON

    def as_json(self) -> dict[str, Any]:
        return {**self.head.as_json(), "signature": self.signature}


def read_tree_head(document: dict[str, Any], jwks: dict[str, Any],
                   log_org: str = DEFAULT_LOG_ORG) -> tuple[TreeHead, str, bytes]:
    """The head a document's JWS signs, its signature and the signed payload, once the JWS
    holds against the log operator's keys (only those of `log_org`: a provider's key signs
    releases, never the log). Raise SignatureInvalid if it does not."""
    try:
        signature = str(document["signature"])
        payload, _kid = verify_compact(signature, jwks, log_org)
        signed = json.loads(payload)
        previous = signed.get("previous")
        head = TreeHead(int(signed["tree_size"]), unb64(signed["root_hash"]),
                        int(signed["timestamp"]),
                        None if previous is None else HeadRef(int(previous["tree_size"]),
                                                              unb64(previous["root_hash"])))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SignatureInvalid(f"not a tree head: {exc}") from exc
    return head, signature, payload


def check_shown_fields(document: dict[str, Any], head: TreeHead) -> None:
    """The document's plain fields must say what its signature covers."""
    shown = {key: document.get(key) for key in ("tree_size", "root_hash", "timestamp",
                                                "previous")}
    if shown != {"previous": None, **head.as_json()}:
        raise SignatureInvalid("the tree head's fields differ from what its signature covers")


def verify_tree_head(document: dict[str, Any], jwks: dict[str, Any],
                     log_org: str = DEFAULT_LOG_ORG) -> SignedTreeHead:
    """Check a tree head as served: its JWS against the log operator's keys, and that the
    JWS says what the plain fields say. Raise SignatureInvalid if it does not hold."""
    head, signature, _payload = read_tree_head(document, jwks, log_org)
    check_shown_fields(document, head)
    return SignedTreeHead(head, signature)
