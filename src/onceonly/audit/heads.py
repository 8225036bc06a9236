"""Signed tree heads: the exchange's signed statement of the log's size and root hash."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from onceonly.audit.merkle import EMPTY_ROOT
from onceonly.crypto.canonical import canonical_json
from onceonly.crypto.signing import SignatureInvalid, verify_compact


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


EMPTY_TREE = HeadRef(0, EMPTY_ROOT)  # what the log's first head names as the one before it


@dataclass(frozen=True, slots=True)
class TreeHead:
    tree_size: int
    root_hash: bytes
    timestamp: int  # milliseconds since the Unix epoch, as RFC 9162 counts time
    # The head signed just before this one (the empty tree for the first), so a head deleted
    # from the middle of the chain is missed by the next. None: a head signed before heads
    # were chained, whose payload has no `previous`.
    previous: HeadRef | None = None

    def payload(self) -> bytes:
        """What is signed: RFC 8785 JSON of {tree_size, root_hash (base64), timestamp,
        previous: {tree_size, root_hash}}."""
        return canonical_json(self.as_json())

    def as_json(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"tree_size": self.tree_size,
                                  "root_hash": b64(self.root_hash),
                                  "timestamp": self.timestamp}
        if self.previous is not None:
            fields["previous"] = self.previous.as_json()
        return fields


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    head: TreeHead
    signature: str  # compact JWS (Ed25519) whose payload is head.payload()

    def as_json(self) -> dict[str, Any]:
        return {**self.head.as_json(), "signature": self.signature}


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
        previous = signed.get("previous")
        head = TreeHead(int(signed["tree_size"]), unb64(signed["root_hash"]),
                        int(signed["timestamp"]),
                        None if previous is None else HeadRef(int(previous["tree_size"]),
                                                              unb64(previous["root_hash"])))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SignatureInvalid(f"not a tree head: {exc}") from exc
    if head.payload() != payload:
        raise SignatureInvalid("the signed tree head is not in canonical form")
    shown = {key: document.get(key) for key in ("tree_size", "root_hash", "timestamp",
                                                "previous")}
    if shown != {"previous": None, **head.as_json()}:
        raise SignatureInvalid("the tree head's fields differ from what its signature covers")
    return SignedTreeHead(head, signature)
