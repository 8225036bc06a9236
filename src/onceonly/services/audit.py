"""The tamper-evident audit log: integrate entries into the Merkle tree under signed heads,
serve proofs, show each reader what they may see, and verify the whole log."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn, Protocol

from onceonly.audit import merkle
from onceonly.audit.entries import (
    ACCESS_ACTIONS,
    SUBJECT_ACCESS,
    AuditEntry,
    AuditRecord,
    EntryUnreadable,
    UnreadableEntry,
    may_read,
    officer_pseudonym,
)
from onceonly.audit.heads import (
    DEFAULT_LOG_ORG,
    EMPTY_TREE,
    HeadRef,
    SignedTreeHead,
    TreeHead,
    verify_tree_head,
)
from onceonly.crypto.signing import SignatureInvalid
from onceonly.domain.errors import forbidden, invalid, not_found
from onceonly.domain.organisations import Principal, Role
from onceonly.services.auth import require_role
from onceonly.services.ports.audit import AuditLogUnitOfWork, AuditSearch, OperatorAlert
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.keys import Secrets
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import denial, refuse, refuse_as

PSEUDONYM_SECRET = "officer-pseudonym"
MAX_PAGE = 200
INTEGRATOR = "onceonly.audit-integrator"
UNREADABLE_ALERT = "audit_entry_unreadable"


class ExchangeNotInitialised(RuntimeError):
    """The exchange's operator has no signing key yet, so nothing can sign a tree head."""


class TreeHeadSigner(Protocol):
    def sign_compact_for(self, org_id: str, payload: bytes) -> str: ...


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


@dataclass(frozen=True, slots=True)
class Backlog:
    """How far integration has come: entries appended, entries under the latest signed
    head, and that head's age."""

    entries: int | None  # None if the log's counter is gone
    signed: int
    head_age_seconds: float | None  # None before the first head
    stopped_at: int | None = None  # an unreadable entry integration cannot pass

    @property
    def unsigned(self) -> int | None:
        return None if self.entries is None else self.entries - self.signed


class AuditService:
    def __init__(self, uows: UnitOfWorkFactory[AuditLogUnitOfWork], clock: Clock,
                 signer: TreeHeadSigner,
                 secrets: Secrets, operator_org: str, batch: int = 4096) -> None:
        self.uows = uows
        self.clock = clock
        self.signer = signer
        self.secrets = secrets
        self.operator_org = operator_org
        self.batch = batch
        # The largest head this process has seen. Heads only grow, so a proof for a size
        # within it needs no read of the latest head.
        self._signed_size = 0
        self._alerted: UnreadableEntry | None = None  # what this process last alerted on
        self._signer_ready = False

    # -- integration -----------------------------------------------------------------------

    def integrate(self) -> SignedTreeHead:
        """Bring every appended entry under a signed tree head, a batch at a time; return
        the latest head. Safe to run in many processes at once: one integrates, the others
        find the work done."""
        head, more = self.integrate_batch()
        while more:
            head, more = self.integrate_batch()
        return head

    def integrate_batch(self, batch: int | None = None) -> tuple[SignedTreeHead, bool]:
        """Bring the next `batch` entries at most (default: this service's) under a signed
        tree head: the latest head, and whether appended entries are still waiting. Stops
        before an entry that does not read (raising EntryUnreadable once it is the next),
        with an operator alert, and goes on once the row is mended."""
        batch = batch or self.batch
        while True:
            with self.uows() as uow:
                latest = uow.tree.latest_head()
                size = latest.head.tree_size if latest else 0
                # Hashed outside the write lock, each leaf straight from its row (as `audit
                # verify` reads them); a row not as appends write it is read the long way.
                with closing(uow.audit.leaf_hashes(size, size + batch, {})) as stream:
                    pending = list(stream)
            # Indexes are dense by construction; a gap means a row was removed behind the
            # log's back. Sign nothing across it (`audit verify` names it).
            pending = [p for i, p in enumerate(pending) if p[0] == size + i]
            leaves = _readable_run(pending)
            if not leaves and pending:
                self._stop_at(pending[0][1])
            if latest is not None and not leaves:
                return self._seen(latest), False
            with self.uows(write=True) as uow:
                uow.tree.lock()
                current = uow.tree.latest_head()
                if current != latest:  # another integrator moved first (even to the empty
                    continue  # tree's head, as large as none): start again from its head
                uow.tree.add_nodes(merkle.integrate(size, leaves, uow.tree.read))
                new_size = size + len(leaves)
                before = (HeadRef(current.head.tree_size, current.head.root_hash) if current
                          else EMPTY_TREE)
                head = self._sign(TreeHead(new_size, merkle.root_at(new_size, uow.tree.read),
                                           int(self.clock.now().timestamp() * 1000), before))
                uow.tree.add_head(head)
                self._clear_alerts(uow, new_size)
                uow.commit()
            return self._seen(head), len(leaves) < len(pending) or len(pending) == batch

    def _stop_at(self, unreadable: AuditRecord | UnreadableEntry) -> NoReturn:
        """Integration cannot pass an entry that does not read: alert the operator (once,
        whichever process finds it first; audited) and raise."""
        assert isinstance(unreadable, UnreadableEntry), "the first pending entry reads"
        if self._alerted != unreadable:
            now = self.clock.now()
            with self.uows(write=True) as uow:
                uow.tree.lock()  # one integrator at a time: one alert
                alert = uow.operator_alerts.raise_once(UNREADABLE_ALERT, unreadable.index,
                                                       str(unreadable), now)
                if alert is not None:
                    uow.audit.record(_alert_entry("raise", alert), now)
                uow.commit()
            self._alerted = unreadable
        raise EntryUnreadable(unreadable)

    def _clear_alerts(self, uow: AuditLogUnitOfWork, size: int) -> None:
        """Integration got past the entries alerted about: those alerts are over."""
        now = self.clock.now()
        for alert in uow.operator_alerts.clear_before(UNREADABLE_ALERT, size, now):
            uow.audit.record(_alert_entry("clear", alert), now)
        self._alerted = None

    def backlog(self) -> Backlog:
        """For monitoring: entries waiting outside a signed head pile up if integration
        stops (a missing operator key, a database that refuses writes, an entry that no
        longer reads)."""
        with self.uows(transaction=False) as uow:
            entries = uow.audit.size()
            latest = uow.tree.latest_head()
            alerts = uow.operator_alerts.listed(open_only=True)
        stopped = [a.audit_index for a in alerts
                   if a.kind == UNREADABLE_ALERT and a.audit_index is not None]
        stopped_at = min(stopped) if stopped else None
        if latest is None:
            return Backlog(entries, 0, None, stopped_at)
        age = self.clock.now().timestamp() - latest.head.timestamp / 1000
        return Backlog(entries, latest.head.tree_size, max(age, 0.0), stopped_at)

    def operator_alerts(self, reader: Principal, *, limit: int = 100) -> list[OperatorAlert]:
        """The operator's alerts, newest first (administrators)."""
        require_role(self.uows, self.clock, reader, {Role.ADMIN}, "operator_alert.list")
        with self.uows(transaction=False) as uow:
            return uow.operator_alerts.listed(limit=limit)

    def check_signer(self) -> None:
        """Raise ExchangeNotInitialised unless the operator's key can sign tree heads (once
        it has, this process knows: keys are kept once loaded)."""
        if not self._signer_ready:
            self._signature(b"readiness check")  # not a tree head: nothing to misuse
            self._signer_ready = True

    def _sign(self, head: TreeHead) -> SignedTreeHead:
        return SignedTreeHead(head, self._signature(head.payload()))

    def _signature(self, payload: bytes) -> str:
        try:
            return self.signer.sign_compact_for(self.operator_org, payload)
        except LookupError as exc:
            raise ExchangeNotInitialised(
                f"cannot sign tree heads: {exc}; set ONCEONLY_OPERATOR_ORG to the exchange "
                "operator's organisation, which needs a signing key") from exc

    # -- public proofs ---------------------------------------------------------------------

    def tree_head(self) -> SignedTreeHead:
        with self.uows() as uow:
            latest = uow.tree.latest_head()
        return self._seen(latest) if latest is not None else self._seen(self.integrate())

    def _seen(self, head: SignedTreeHead) -> SignedTreeHead:
        self._signed_size = max(self._signed_size, head.head.tree_size)
        return head

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


def _readable_run(pending: list[tuple[int, bytes | UnreadableEntry]]) -> list[bytes]:
    """The leaf hashes before the first unreadable entry."""
    run = []
    for _, leaf in pending:
        if isinstance(leaf, UnreadableEntry):
            break
        run.append(leaf)
    return run


def _alert_entry(action: str, alert: OperatorAlert) -> AuditEntry:
    return AuditEntry(f"operator_alert.{action}", "done", INTEGRATOR, None, reason=alert.kind,
                      detail={"alert": alert.id, "index": alert.audit_index})


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


# -- verification --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verification:
    entries: int
    root: bytes
    signed_size: int  # entries under the latest signed tree head
    heads: int
    bad_index: int | None = None
    problem: str | None = None
    chained_from: int | None = None  # the size of the first head naming the one before it
    unchained: int = 0  # heads signed before heads named the one before them

    @property
    def ok(self) -> bool:
        return self.problem is None


class _Bad(Exception):
    """The first fault found: where, and what."""

    def __init__(self, index: int, problem: str) -> None:
        super().__init__(problem)
        self.index = index
        self.problem = problem


def verify_log(uows: UnitOfWorkFactory[AuditLogUnitOfWork], jwks: dict[str, Any], *,
               log_org: str = DEFAULT_LOG_ORG, chunk: int = 10_000,
               progress: Callable[[int, int], None] | None = None) -> Verification:
    """Recompute every leaf and the root from the stored entries; compare every entry with
    its stored leaf hash and every stored interior node with the one recomputed (whether or
    not a head covers them: heads can be deleted); check every signed tree head: its
    signature, that it names the head before it, its root against the entries, and its
    consistency with the head before it. Names the first bad index."""
    tree = merkle.MemoryTree()
    heads: list[SignedTreeHead] = []
    try:
        with uows() as uow:  # one read transaction: one consistent snapshot
            heads = uow.tree.heads()
            _check_entries(uow, tree, heads, chunk, progress)
        chained_from = _check_heads(tree, heads, jwks, log_org)
    except _Bad as bad:
        signed = heads[-1].head.tree_size if heads else 0
        return Verification(tree.size, tree.root(), signed, len(heads), bad.index, bad.problem)
    signed = heads[-1].head.tree_size if heads else 0
    return Verification(tree.size, tree.root(), signed, len(heads), chained_from=chained_from,
                        unchained=sum(h.head.previous is None for h in heads))


def _check_entries(uow: AuditLogUnitOfWork, tree: merkle.MemoryTree, heads: list[SignedTreeHead],
                   chunk: int, progress: Callable[[int, int], None] | None) -> None:
    """Every entry read and hashed into `tree`, each checked against its stored leaf, then
    every stored interior node against the tree recomputed."""
    signed_size = heads[-1].head.tree_size if heads else 0
    counted = uow.audit.size()
    # Entries the stored tree covers: what a head signed, or what leaves were stored for.
    covered = max(signed_size, uow.tree.leaf_count())
    total = max(counted or 0, covered)
    pruned = uow.audit.pruned_below()
    for start in range(0, total, chunk):
        stop = min(start + chunk, total)
        stored = uow.tree.level(0, start, min(stop, covered))
        leaves = _pruned_leaves(stored, start, min(stop, pruned))
        # Closed here, not when collected: a cursor must not outlive its unit of work.
        with closing(uow.audit.leaf_hashes(start + len(leaves), stop, stored)) as stream:
            _check_leaves(stream, start, covered, stored, leaves)
        if start + len(leaves) < stop:
            raise _Bad(start + len(leaves), _MISSING.format(start + len(leaves)))
        tree.extend(leaves)
        if progress:
            progress(tree.size, total)
    if counted is None:
        raise _Bad(total, "the log's counter (audit_counter) is missing: appends cannot take "
                          f"an index, and entries beyond the {total} the tree covers are "
                          "unaccounted for")
    if uow.audit.entries(total, total + 1):
        raise _Bad(total, f"entry {total} was not appended through the log: its counter "
                          f"stops at {total}")
    _check_nodes(uow, tree, covered, chunk)


def _check_leaves(stream: Iterable[tuple[int, bytes | UnreadableEntry]], start: int,
                  covered: int, stored: dict[int, bytes], leaves: list[bytes]) -> None:
    """Each streamed entry in its place, readable, and hashing to the leaf the tree holds;
    its leaf hash appended to `leaves` (which holds those from `start` on)."""
    for index, digest in stream:
        expected = start + len(leaves)
        if index != expected:
            raise _Bad(expected, _MISSING.format(expected))
        if isinstance(digest, UnreadableEntry):
            raise _Bad(expected, str(digest))
        if expected < covered and stored.get(expected) != digest:
            raise _Bad(expected, (
                f"entry {expected} differs from the entry the tree holds: altered, "
                "inserted or moved" if expected in stored else
                f"the tree holds no leaf for entry {expected}, though it covers "
                f"{covered} entries"))
        leaves.append(digest)


def _pruned_leaves(stored: dict[int, bytes], start: int, stop: int) -> list[bytes]:
    """Entries removed after export (archive bundles) are checked by the leaves the tree
    keeps of them: those are what every proof and root is made from."""
    leaves = []
    for index in range(start, stop):
        if index not in stored:
            raise _Bad(index, f"entry {index} was removed after export, and the tree holds no "
                              "leaf for it")
        leaves.append(stored[index])
    return leaves


def _check_nodes(uow: AuditLogUnitOfWork, tree: merkle.MemoryTree, covered: int,
                 chunk: int) -> None:
    """Proofs and roots are read from the stored interior nodes: each must be the hash
    recomputed from the entries, or a citizen's proof fails while the log verifies."""
    for level in range(1, covered.bit_length()):
        computed = tree.levels[level]
        count = covered >> level
        for start in range(0, count, chunk):
            stop = min(start + chunk, count)
            stored = uow.tree.level(level, start, stop)
            for idx in range(start, stop):
                if stored.get(idx) != computed[idx]:
                    first, last = idx << level, ((idx + 1) << level) - 1
                    raise _Bad(first, (
                        f"the tree's node at level {level}, index {idx} (entries {first} to "
                        f"{last}) " + ("differs from the hash of the entries under it: proofs "
                                       "through it fail" if idx in stored else
                                       "is missing, though the tree covers them")))


def _check_heads(tree: merkle.MemoryTree, heads: list[SignedTreeHead], jwks: dict[str, Any],
                 log_org: str) -> int | None:
    """Each head's signature, its link to the head before it, its root, and its consistency
    with the head before it; the size of the first chained head (heads signed before heads
    were chained name none: the chain starts there)."""
    previous: SignedTreeHead | None = None
    chained_from: int | None = None
    for signed in heads:
        head = signed.head
        try:
            verify_tree_head(signed.as_json(), jwks, log_org)
        except SignatureInvalid as exc:
            raise _Bad(head.tree_size, f"the tree head of size {head.tree_size} is not validly "
                                       f"signed: {exc}") from exc
        if head.previous is not None:
            chained_from = head.tree_size if chained_from is None else chained_from
            _check_link(head, previous)
        elif chained_from is not None:
            raise _Bad(head.tree_size, f"the tree head of size {head.tree_size} names no head "
                                       "before it, though earlier heads do")
        if tree.root(head.tree_size) != head.root_hash:
            start = previous.head.tree_size if previous else 0
            raise _Bad(start, f"the signed tree head of size {head.tree_size} does not match "
                              f"the entries: one at or after index {start} and before "
                              f"{head.tree_size} was changed")
        if previous is not None and previous.head.tree_size:
            first = previous.head.tree_size
            proof = tree.consistency_proof(first, head.tree_size)
            if not merkle.verify_consistency(first, head.tree_size, previous.head.root_hash,
                                             head.root_hash, proof):
                raise _Bad(first, f"tree heads {first} and {head.tree_size} are not consistent")
        previous = signed
    return chained_from


def _check_link(head: TreeHead, previous: SignedTreeHead | None) -> None:
    """A chained head names the head stored just before it (the empty tree for the first)."""
    named = head.previous
    assert named is not None
    before = (HeadRef(previous.head.tree_size, previous.head.root_hash) if previous
              else EMPTY_TREE)
    if named == before:
        return
    if named.tree_size > before.tree_size:
        raise _Bad(named.tree_size, f"the tree head of size {named.tree_size} is missing: the "
                                    f"head of size {head.tree_size} names it as the one "
                                    "before it")
    raise _Bad(head.tree_size, f"the tree head of size {head.tree_size} names the head of size "
                               f"{named.tree_size} as the one before it, not the stored head "
                               f"of size {before.tree_size}")


_MISSING = "entry {} is missing: deleted, or the entries after it renumbered"
