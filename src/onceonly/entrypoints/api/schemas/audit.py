"""The audit log: signed tree heads, proofs, entries, citizens' access logs and the
operator's alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

Base64 = Annotated[str, Field(description="base64 (RFC 4648 §4, padded)")]


class HeadRefOut(BaseModel):
    tree_size: int
    root_hash: Base64


class CosignatureOut(BaseModel):
    witness: str = Field(description="the witness's name (its key name, C2SP signed-note)")
    timestamp: int = Field(description="seconds since the Unix epoch, as the witness signed")
    signature: Base64 = Field(description="the timestamped_signature of C2SP "
                                          "tlog-cosignature (timestamp || Ed25519 signature) "
                                          "over `cosignature/v1`, `time <timestamp>` and the "
                                          "checkpoint")


class TimestampTokenOut(BaseModel):
    authority: str
    stamped_at: datetime = Field(description="the authority's time (its genTime)")
    token: Base64 = Field(description="the authority's whole RFC 3161 answer (DER "
                                      "TimeStampResp) over SHA-256 of the head's compact JWS")


class TreeHeadOut(BaseModel):
    tree_size: int
    root_hash: Base64
    timestamp: int = Field(description="milliseconds since the Unix epoch")
    previous: HeadRefOut | None = Field(
        None, description="the head signed just before this one (size 0 and the empty "
                          "tree's root for the first), so a head deleted from the chain is "
                          "missed; null on heads signed before heads named it")
    signature: str = Field(description="compact JWS (Ed25519) whose payload is the RFC 8785 JSON "
                                       "of {tree_size, root_hash, timestamp, previous} "
                                       "(previous left out where null); keys at "
                                       "/.well-known/jwks.json")
    checkpoint: str | None = Field(
        None, description="the head as a C2SP checkpoint body (origin, size, root hash "
                          "lines): what the witnesses cosign")
    cosignatures: list[CosignatureOut] = Field(
        default_factory=list, description="the witnesses' cosignatures of this head")
    rfc3161: TimestampTokenOut | None = Field(
        None, description="an outside RFC 3161 timestamp of this head; null while it waits")


class AuditEntryOut(BaseModel):
    index: int
    entry: dict[str, Any] = Field(description="the entry; its RFC 8785 form is the leaf")
    leaf: Base64 = Field(description="the leaf bytes the Merkle tree commits to")


class UnreadableEntryOut(BaseModel):
    """An entry whose stored row does not read as an entry (changed behind the log's back):
    listed in its place, with why, so the rest of the page is still served."""

    index: int
    code: str = Field(description="entry_unreadable")
    detail: str = Field(description="why the row does not read")


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut | UnreadableEntryOut] = Field(
        description="newest first; an entry that does not read is an item with `code` "
                    "`entry_unreadable` in place of `entry` and `leaf`")
    next_before: int | None = Field(description="pass as `before` for the next, older page")


class InclusionProofOut(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_hash: Base64
    audit_path: list[Base64] = Field(description="RFC 9162 §2.1.3.1 PATH(leaf_index, "
                                                 "D[tree_size])")


class ConsistencyProofOut(BaseModel):
    first: int
    second: int
    consistency_path: list[Base64] = Field(description="RFC 9162 §2.1.4.1 PROOF(first, "
                                                       "D[second])")


class AccessOut(BaseModel):
    index: int = Field(description="the audit entry: check its inclusion proof")
    at: datetime
    organisation: str
    provider: str | None
    purpose: str | None
    officer: str | None = Field(description="a pseudonym, stable per officer")
    fields: list[str]
    outcome: str = Field(description="released or refused")
    reason: str | None


class AccessLogOut(BaseModel):
    accesses: list[AccessOut]
    next_before: int | None


class OperatorAlertOut(BaseModel):
    id: int
    at: datetime
    kind: str = Field(description="e.g. audit_entry_unreadable: integration of the audit log "
                                  "stopped at an entry that does not read")
    audit_index: int | None = Field(description="the audit entry it is about")
    detail: str
    cleared_at: datetime | None = Field(description="when the exchange found the cause gone; "
                                                    "null while open")
