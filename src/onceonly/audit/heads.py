"""Signed tree heads: the exchange's signed statement of the log's size and root hash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onceonly.audit.merkle import EMPTY_ROOT
from onceonly.crypto.canonical import canonical_json
from onceonly.crypto.signing import SignatureInvalid

# Reading a head as served is the client package's (integrators check heads on their own);
# the exchange adds what signing one needs, its canonical payload, and checks that form.
from onceonly_client import heads as served
from onceonly_client.heads import (
    DEFAULT_LOG_ORG,
    HeadRef,
    SignedTreeHead,
    b64,
    unb64,
)

__all__ = ["DEFAULT_LOG_ORG", "EMPTY_TREE", "HeadRef", "SignedTreeHead", "TreeHead", "b64",
           "unb64", "verify_tree_head"]

EMPTY_TREE = HeadRef(0, EMPTY_ROOT)  # what the log's first head names as the one before it


@dataclass(frozen=True, slots=True, eq=False)  # equal as the client's heads are
class TreeHead(served.TreeHead):
    def payload(self) -> bytes:
        """What is signed: RFC 8785 JSON of {tree_size, root_hash (base64), timestamp,
        previous: {tree_size, root_hash}}."""
        return canonical_json(self.as_json())


def verify_tree_head(document: dict[str, Any], jwks: dict[str, Any],
                     log_org: str = DEFAULT_LOG_ORG) -> SignedTreeHead:
    """Check a tree head as served: its JWS against the log operator's keys (only those of
    `log_org`: a provider's key signs releases, never the log), that its payload is in the
    canonical form this exchange signs, and that the JWS says what the plain fields say.
    Raise SignatureInvalid if it does not hold."""
    read, signature, payload = served.read_tree_head(document, jwks, log_org)
    head = TreeHead(read.tree_size, read.root_hash, read.timestamp, read.previous)
    if head.payload() != payload:
        raise SignatureInvalid("the signed tree head is not in canonical form")
    served.check_shown_fields(document, head)
    return SignedTreeHead(head, signature)
