"""Checking one audit entry the way an outsider would: its leaf, the inclusion proof to the
latest signed tree head, and that head's signature against the published keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onceonly.audit import merkle
from onceonly.audit.entries import EntryUnreadable
from onceonly.audit.heads import DEFAULT_LOG_ORG, b64, verify_tree_head
from onceonly.crypto.signing import SignatureInvalid
from onceonly.domain.organisations import Principal
from onceonly.services.audit import AuditService
from onceonly.services.ports.keys import Signer


@dataclass(frozen=True, slots=True)
class EntryVerification:
    index: int
    ok: bool
    tree_size: int  # the signed tree head it was checked against
    root_hash: str  # base64, as the head shows it
    path_length: int  # hashes in the inclusion proof
    problem: str | None = None


class EntryVerifier:
    """A reader checks one audit entry against the log's published keys (`keys`: the
    exchange's signing keys, whose JWKS it publishes)."""

    def __init__(self, audit: AuditService, keys: Signer) -> None:
        self.audit = audit
        self.keys = keys

    def verify(self, reader: Principal, index: int) -> EntryVerification:
        return verify_entry(self.audit, self.keys.jwks(), reader, index,
                            self.audit.operator_org)


def verify_entry(audit: AuditService, jwks: dict[str, Any], reader: Principal, index: int,
                 log_org: str = DEFAULT_LOG_ORG) -> EntryVerification:
    """Only an entry the reader may read (a citizen: one about them), else not found. An
    entry whose row does not read fails verification, saying so."""
    try:
        record = audit.entry(reader, index)
    except EntryUnreadable as unreadable:
        return EntryVerification(index, False, 0, "", 0,
                                 f"the log holds this entry in a form that does not read "
                                 f"({unreadable.unreadable.why}): it was changed behind the "
                                 "log's back")
    signed = audit.tree_head()
    root = b64(signed.head.root_hash)
    try:
        verify_tree_head(signed.as_json(), jwks, log_org)
    except SignatureInvalid as exc:
        return EntryVerification(index, False, signed.head.tree_size, root, 0,
                                 f"the signed tree head does not verify: {exc}")
    if index >= signed.head.tree_size:
        return EntryVerification(index, False, signed.head.tree_size, root, 0,
                                 "the entry is not yet under a signed tree head; the log signs "
                                 "a new head every few seconds, so try again shortly")
    proof = audit.inclusion_proof(index, signed.head.tree_size)
    leaf = merkle.leaf_hash(record.leaf())
    included = leaf == proof.leaf_hash and merkle.verify_inclusion(
        leaf, index, proof.tree_size, proof.audit_path, signed.head.root_hash)
    return EntryVerification(
        index, included, proof.tree_size, root, len(proof.audit_path),
        None if included else "the entry does not match the log's signed tree head")
