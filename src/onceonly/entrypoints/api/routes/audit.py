"""The audit log over HTTP: signed tree heads and RFC 9162 proofs for anyone; entries for
those allowed to read them; each citizen's own access log; the operator's alerts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from onceonly.audit.entries import AuditRecord, EntryUnreadable, UnreadableEntry
from onceonly.audit.heads import b64
from onceonly.domain.organisations import ORG_ID_PATTERN
from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.problems import problem
from onceonly.entrypoints.api.schemas.audit import (
    AccessLogOut,
    AccessOut,
    AuditEntryOut,
    AuditPageOut,
    ConsistencyProofOut,
    InclusionProofOut,
    OperatorAlertOut,
    TreeHeadOut,
    UnreadableEntryOut,
)
from onceonly.entrypoints.api.schemas.problems import Problem
from onceonly.services.audit import MAX_PAGE

MAX_INDEX = 2**53 - 1  # far beyond any log; the largest integer JSON (RFC 8785) holds exactly
Index = Annotated[int, Query(ge=0, le=MAX_INDEX)]
OptionalIndex = Annotated[int | None, Query(ge=0, le=MAX_INDEX)]
Before = Annotated[int | None, Query(ge=1, le=MAX_INDEX,
                                     description="only entries with a smaller index (paging)")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]


UNREADABLE = "entry_unreadable"
UNREADABLE_ANSWER: dict[int | str, dict[str, Any]] = {500: {
    "model": Problem,
    "description": "`entry_unreadable`: the entry's stored row does not read as an entry "
                   "(changed behind the log's back); the detail says why, and the operator "
                   "is alerted when integration reaches it"}}


def _entry(record: AuditRecord) -> AuditEntryOut:
    return AuditEntryOut(index=record.index, entry=record.as_json(), leaf=b64(record.leaf()))


def _listed(record: AuditRecord | UnreadableEntry) -> AuditEntryOut | UnreadableEntryOut:
    if isinstance(record, UnreadableEntry):
        return UnreadableEntryOut(index=record.index, code=UNREADABLE, detail=str(record))
    return _entry(record)


router = APIRouter(tags=["audit"], route_class=JsonRoute)


@router.get("/v1/audit/tree-head", response_model=TreeHeadOut)
def tree_head(exchange: ExchangeDep) -> dict[str, Any]:
    """The latest signed tree head, with its witnesses' cosignatures and its RFC 3161
    timestamp once it has them. Public: it holds hashes only."""
    head = exchange.audit.tree_head()
    size = head.head.tree_size
    stamp = exchange.timestamps.of(size)
    return {**head.as_json(),
            "checkpoint": exchange.witnesses.checkpoint_body(head).decode(),
            "cosignatures": [{"witness": c.witness, "timestamp": c.timestamp,
                              "signature": b64(c.signature)}
                             for c in exchange.witnesses.cosignatures(size)],
            "rfc3161": None if stamp is None else {
                "authority": stamp.authority, "stamped_at": stamp.stamped_at,
                "token": b64(stamp.token)}}


@router.get("/v1/audit/proof/inclusion", response_model=InclusionProofOut)
def inclusion(index: Index, exchange: ExchangeDep,
              tree_size: OptionalIndex = None) -> InclusionProofOut:
    """The audit path of entry `index` in the tree of `tree_size` entries (default: the
    latest signed head)."""
    proof = exchange.audit.inclusion_proof(index, tree_size)
    return InclusionProofOut(leaf_index=proof.leaf_index, tree_size=proof.tree_size,
                             leaf_hash=b64(proof.leaf_hash),
                             audit_path=[b64(h) for h in proof.audit_path])


@router.get("/v1/audit/proof/consistency", response_model=ConsistencyProofOut)
def consistency(first: Index, exchange: ExchangeDep,
                second: OptionalIndex = None) -> ConsistencyProofOut:
    """Proof that the tree of `second` entries (default: the latest signed head) extends
    the tree of `first` entries."""
    proof = exchange.audit.consistency_proof(first, second)
    return ConsistencyProofOut(first=proof.first, second=proof.second,
                               consistency_path=[b64(h) for h in proof.path])


@router.get("/v1/audit/entries/{index}", response_model=AuditEntryOut,
            responses=UNREADABLE_ANSWER)
def entry(index: Annotated[int, Path(ge=0, le=MAX_INDEX)],
          caller: Caller, exchange: ExchangeDep) -> AuditEntryOut | JSONResponse:
    try:
        record = exchange.audit.entry(caller, index)
    except EntryUnreadable as unreadable:
        # The server's fault, not the caller's: a 500, with the problem named.
        return problem(500, UNREADABLE, str(unreadable))
    return _entry(record)


@router.get("/v1/audit/entries", response_model=AuditPageOut)
def entries(caller: Caller, exchange: ExchangeDep, provider: Annotated[str | None, Query(
                pattern=ORG_ID_PATTERN,
                description="the provider whose data the entries are about (a guardian: "
                            "their own organisation)")] = None,
            before: Before = None, limit: Limit = 50) -> AuditPageOut:
    """Newest first. Guardians read entries about their organisation's data, officers
    their own actions, administrators any."""
    page = exchange.audit.entries(caller, provider=provider, before=before, limit=limit)
    return AuditPageOut(entries=[_listed(r) for r in page.records],
                        next_before=page.next_before)


@router.get("/v1/operator-alerts", response_model=list[OperatorAlertOut])
def operator_alerts(caller: Caller, exchange: ExchangeDep,
                    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
                    ) -> list[OperatorAlertOut]:
    """What only the exchange's operator can mend, newest first (administrators): e.g.
    `audit_entry_unreadable`, an entry integration stopped at. Cleared by the exchange
    once the cause is gone."""
    return [OperatorAlertOut(id=a.id, at=a.at, kind=a.kind, audit_index=a.audit_index,
                             detail=a.detail, cleared_at=a.cleared_at)
            for a in exchange.audit.operator_alerts(caller, limit=limit)]


@router.get("/v1/me/access-log", response_model=AccessLogOut)
def access_log(caller: Caller, exchange: ExchangeDep, before: Before = None,
               limit: Limit = 50) -> AccessLogOut:
    """Who asked for the signed-in citizen's data, why, and the answer; newest first."""
    accesses, next_before = exchange.audit.access_log(caller, before=before, limit=limit)
    return AccessLogOut(
        accesses=[AccessOut(index=a.index, at=a.at, organisation=a.organisation,
                            provider=a.provider, purpose=a.purpose, officer=a.officer,
                            fields=list(a.fields), outcome=a.outcome, reason=a.reason)
                  for a in accesses],
        next_before=next_before)
