"""The tamper-evident audit log: serve its proofs and show each reader what they may see.
Integrating entries under signed heads is in audit_integration.py; verifying the whole
log, in audit_verification.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from onceonly.audit import merkle
from onceonly.audit.entries import (
    ACCESS_ACTIONS,
    SUBJECT_ACCESS,
    AuditRecord,
    EntryUnreadable,
    UnreadableEntry,
    may_read,
    officer_pseudonym,
)
from onceonly.audit.heads import SignedTreeHead
from onceonly.domain.errors import forbidden, invalid, not_found
from onceonly.domain.organisations import Principal, Role
from onceonly.services.audit_integration import AuditIntegration, TreeHeadSigner
from onceonly.services.auth import require_role
from onceonly.services.ports.audit import AuditLogUnitOfWork, AuditSearch
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.keys import Secrets
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import denial, refuse, refuse_as

PSEUDONYM_SECRET = "officer-pseudonym"
MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    audit_path: list[bytes]


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    first: int
    second: int
    path: list[bytes]


@dataclass(frozen=True, slots=True)
class Access:
    """One line of a citizen's access log: who asked for their data, why, and the answer."""

    index: int
    at: datetime
    organisation: str
    provider: str | None
    purpose: str | None
    officer: str | None  # a pseudonym, stable per officer
    fields: tuple[str, ...]
    outcome: str  # released or refused
    reason: str | None
    yourself: bool = False  # the citizen's own read of what the provider holds (subject access)


@dataclass(frozen=True, slots=True)
class Page:
    records: list[AuditRecord | UnreadableEntry]
    next_before: int | None  # pass as `before` for the next (older) page


class AuditService(AuditIntegration):
    """The log's integration (audit_integration.py), its public proofs, and its entries as
    each reader may see them."""

    def __init__(self, uows: UnitOfWorkFactory[AuditLogUnitOfWork], clock: Clock,
                 signer: TreeHeadSigner,
                 secrets: Secrets, operator_org: str, batch: int = 4096) -> None:
        super().__init__(uows, clock, signer, operator_org, batch)
        self.secrets = secrets

    # -- public proofs ---------------------------------------------------------------------

    def tree_head(self) -> SignedTreeHead:
        with self.uows() as uow:
            latest = uow.tree.latest_head()
        return self._seen(latest) if latest is not None else self._seen(self.integrate())

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> InclusionProof:
        with self.uows(transaction=False) as uow:  # the tree's nodes never change
            size = self._within_head(uow, tree_size, "tree_size")
            if not 0 <= index < size:
                raise invalid("index_out_of_range",
                              f"index must be at least 0 and below tree_size {size}")
            found: dict[merkle.Node, bytes] = {}

            def read_with_leaf(nodes: Sequence[merkle.Node]) -> dict[merkle.Node, bytes]:
                found.update(uow.tree.read([*nodes, (0, index)]))  # one round trip for both
                return found

            path = merkle.inclusion_proof(index, size, read_with_leaf)
            leaf = found.get((0, index)) or uow.tree.read([(0, index)])[(0, index)]
        return InclusionProof(index, size, leaf, path)

    def consistency_proof(self, first: int, second: int | None = None) -> ConsistencyProof:
        with self.uows(transaction=False) as uow:
            size = self._within_head(uow, second, "second")
            if not 0 <= first <= size:
                raise invalid("index_out_of_range", f"first must be between 0 and {size}")
            path = merkle.consistency_proof(first, size, uow.tree.read) if first else []
        return ConsistencyProof(first, size, path)

    def root_at(self, size: int) -> bytes:
        """The root of the first `size` entries, from the stored tree."""
        with self.uows(transaction=False) as uow:
            self._within_head(uow, size, "tree_size")
            return merkle.root_at(size, uow.tree.read)

    def _within_head(self, uow: AuditLogUnitOfWork, size: int | None, name: str) -> int:
        """`size`, checked to be within a signed head; the latest head's size if None."""
        if size is not None and size <= self._signed_size:
            return size
        latest = uow.tree.latest_head()
        integrated = self._seen(latest).head.tree_size if latest else 0
        if size is None:
            return integrated
        if size > integrated:
            raise invalid("beyond_tree_head",
                          f"{name} {size} is beyond the latest signed tree head "
                          f"({integrated} entries); fetch /v1/audit/tree-head first")
        return size

    # -- reading entries -------------------------------------------------------------------

    def entry(self, reader: Principal, index: int) -> AuditRecord:
        """Raises EntryUnreadable for a row that does not read as an entry (to whoever asks:
        who may read it cannot be told from it, and its index is public in the tree)."""
        now = self.clock.now()
        with self.uows() as uow:
            record = uow.audit.entry(index)
        if isinstance(record, UnreadableEntry):
            with self.uows(write=True) as uow:
                uow.audit.record(denial("audit.read", reader, "entry_unreadable",
                                        detail={"index": index}), now)
                uow.commit()
            raise EntryUnreadable(record)
        if record is None or not may_read(reader, record, now):
            # The same answer for "missing" and "not yours": indexes reveal nothing.
            refuse(self.uows, self.clock,
                   denial("audit.read", reader, "entry_not_visible", detail={"index": index}),
                   not_found("audit_entry_unknown", f"no audit entry {index} you may read"))
        return record

    def entries(self, reader: Principal, *, provider: str | None, before: int | None,
                limit: int) -> Page:
        """Guardians: entries about their organisation's data. Officers: their own.
        Administrators: any, optionally by provider."""
        require_role(self.uows, self.clock, reader, {Role.GUARDIAN, Role.OFFICER, Role.ADMIN},
                     "audit.list")
        search = AuditSearch(limit=limit, before=before, provider_id=provider)
        if reader.role is Role.GUARDIAN:
            if provider not in (None, reader.org_id):
                refuse_as(self.uows, self.clock, "audit.list", reader,
                          forbidden("not_your_organisation",
                                    f"a guardian of {reader.org_id} reads only entries about "
                                    f"{reader.org_id}'s data"), provider_id=provider)
            search = AuditSearch(limit=limit, before=before, provider_id=reader.org_id)
        elif reader.role is Role.OFFICER:
            search = AuditSearch(limit=limit, before=before, provider_id=provider,
                                 actor_id=reader.id)
        return self._page(search)

    def access_log(self, citizen: Principal, *, before: int | None, limit: int) -> tuple[
            list[Access], int | None]:
        """Every decision about the citizen's data, newest first, except those still hidden
        (an entry under a hidden-until agreement appears once its date has passed) and those
        that do not read (whether they are hidden cannot be told)."""
        require_role(self.uows, self.clock, citizen, {Role.CITIZEN}, "audit.access_log")
        if citizen.person_key is None:
            return [], None
        page = self._page(AuditSearch(limit=limit, before=before, person_key=citizen.person_key,
                                      actions=ACCESS_ACTIONS, revealed_at=self.clock.now()))
        key = self.secrets.get(PSEUDONYM_SECRET)
        return ([_access(record, key) for record in page.records
                 if isinstance(record, AuditRecord)], page.next_before)

    def _page(self, search: AuditSearch) -> Page:
        if not 1 <= search.limit <= MAX_PAGE:
            raise invalid("invalid_limit", f"limit must be between 1 and {MAX_PAGE}")
        with self.uows() as uow:
            records = uow.audit.search(search)
        full = len(records) == search.limit
        return Page(records, records[-1].index if full and records[-1].index > 0 else None)


def _access(record: AuditRecord, pseudonym_key: bytes) -> Access:
    entry = record.entry
    return Access(
        index=record.index,
        at=record.at,
        organisation=entry.org_id or "",
        provider=entry.provider_id,
        purpose=entry.purpose,
        officer=(None if entry.action == SUBJECT_ACCESS
                 else officer_pseudonym(pseudonym_key, entry.actor_id)),
        fields=entry.fields,
        outcome="released" if entry.outcome == "permit" else "refused",
        reason=entry.reason,
        yourself=entry.action == SUBJECT_ACCESS,
    )
