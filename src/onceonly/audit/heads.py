"""Signed tree heads: the exchange's signed statement of the log's size and root hash."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from onceonly.crypto.canonical import canonical_json
from onceonly.crypto.signing import SignatureInvalid, verify_compact


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


@dataclass(frozen=True, slots=True)
class TreeHead:
    tree_size: int
    root_hash: bytes
    timestamp: int  # milliseconds since the Unix epoch, as RFC 9162 counts time

    def payload(self) -> bytes:
        """What is signed: RFC 8785 JSON of {tree_size, root_hash (base64), timestamp}."""
        return canonical_json({"tree_size": self.tree_size, "root_hash": b64(self.root_hash),
                               "timestamp": self.timestamp})


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    head: TreeHead
    signature: str  # compact JWS (Ed25519) whose payload is head.payload()

    def as_json(self) -> dict[str, Any]:
        return {"tree_size": self.head.tree_size, "root_hash": b64(self.head.root_hash),
                "timestamp": self.head.timestamp, "signature": self.signature}


DEFAULT_LOG_ORG = "GOV/EXCHANGE"


def verify_tree_head(document: dict[str, Any], jwks: dict[str, Any],
                     log_org: str = DEFAULT_LOG_ORG) -> SignedTreeHead:
    """Check a tree head as served: its JWS against the log operator's keys (only those of
    `log_org`: a provider's key signs releases, never the log), and that the JWS says what
    the plain fields say. Raise SignatureInvalid if it does not hold."""
    try:
        signature = str(document["signature"])
        payload, _kid = verify_compact(signature, jwks, log_org)
        signed = json.loads(payload)
        head = TreeHead(int(signed["tree_size"]), unb64(signed["root_hash"]),
                        int(signed["timestamp"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise SignatureInvalid(f"not a tree head: {exc}") from exc
    if head.payload() != payload:
        raise SignatureInvalid("the signed tree head is not in canonical form")
    shown = (document.get("tree_size"), document.get("root_hash"), document.get("timestamp"))
    if shown != (head.tree_size, b64(head.root_hash), head.timestamp):
        raise SignatureInvalid("the tree head's fields differ from what its signature covers")
    return SignedTreeHead(head, signature)
