"""The audit log: its entries, its Merkle tree and the operator's alerts about it."""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from onceonly.audit.entries import AuditEntry, AuditRecord, UnreadableEntry
from onceonly.audit.heads import SignedTreeHead
from onceonly.audit.merkle import Node
from onceonly.services.ports.unit_of_work import UnitOfWork

# Entries as their indexes and leaves (or why one does not read), in index order, streamed
# from a cursor: close it (contextlib.closing) within the unit of work that opened it.
LeafStream = Generator[tuple[int, bytes | UnreadableEntry], None, None]
# The same with each leaf's hash (merkle.leaf_hash) in its place, a batch at a time: the
# batch's indexes and, in the same order, their hashes (lists, so that a batch is checked
# in one comparison).
LeafHashBatches = Generator[tuple[list[int], list[bytes | UnreadableEntry]], None, None]


class AuditLog(Protocol):
    def record(self, entry: AuditEntry, at: datetime) -> int:
        """Append an entry within the current unit of work; return its index in the log.
        Indexes are dense and in commit order: appends queue until the unit of work ends."""
        ...
    def size(self) -> int | None:
        """The next index to append at; None if the log's counter is gone (tampering)."""
        ...
    def entries(self, start: int, stop: int) -> list[AuditRecord | UnreadableEntry]:
        """Entries [start, stop) by index. A row that does not read as an entry (changed
        behind the log's back) is named as unreadable, in its place."""
        ...
    def entry(self, index: int) -> AuditRecord | UnreadableEntry | None: ...
    def leaf_hashes(self, start: int, stop: int, stored: Sequence[bytes]) -> LeafHashBatches:
        """Entries [start, stop) as their indexes and leaf hashes, each made from the entry's
        stored values (the hash of the bytes the tree commits to), in index order, streamed
        in batches: for reading the whole log. `stored` is the tree's leaf hashes of entries
        start, start + 1, ..., as far as it holds them without a gap: a hint for reading
        fast, never a substitute for an entry. An
        entry that does not read is named as in `entries`, in its hash's place."""
        ...
    def pruned_below(self) -> int:
        """Entries below this index were removed after export (archive bundles); the tree
        keeps their leaves."""
        ...
    def search(self, search: AuditSearch) -> list[AuditRecord | UnreadableEntry]:
        """Newest first."""
        ...


@dataclass(frozen=True, slots=True)
class AuditSearch:
    """Which entries to list, newest first; None means any."""

    limit: int
    before: int | None = None  # only entries with a smaller index (the next page)
    provider_id: str | None = None
    org_id: str | None = None
    actor_id: str | None = None
    person_key: str | None = None
    actions: tuple[str, ...] = ()
    revealed_at: datetime | None = None  # leave out entries still hidden at this time


@dataclass(frozen=True, slots=True)
class HeadsAfter:
    """The signed heads newer than a given size: how many, and the oldest one's time."""

    count: int
    oldest_timestamp: int | None  # milliseconds since the Unix epoch; None when count is 0

    def waiting(self, now: datetime) -> HeadsWaiting:
        """These heads as waiting since the oldest was signed."""
        if self.oldest_timestamp is None:
            return HeadsWaiting(self.count, None)
        return HeadsWaiting(self.count, max(now.timestamp() - self.oldest_timestamp / 1000, 0.0))


@dataclass(frozen=True, slots=True)
class HeadsWaiting:
    """Signed heads waiting for outside evidence (a timestamp, a witness's cosignature):
    how many, and for how long the oldest has waited. Shown to the operator on /readyz;
    the exchange serves on while they wait."""

    count: int
    oldest_age_seconds: float | None  # None when none waits


class AuditTree(Protocol):
    """The Merkle tree's stored perfect-subtree hashes and its signed heads."""

    def lock(self) -> None:
        """Hold the right to integrate until the unit of work ends (one integrator at a time)."""
        ...
    def read(self, nodes: Sequence[Node]) -> dict[Node, bytes]: ...
    def level(self, level: int, start: int, stop: int) -> dict[int, bytes]:
        """The stored nodes (level, start) to (level, stop - 1), by index; level 0 holds
        the leaf hashes."""
        ...
    def complete_level(self, level: int, start: int, stop: int) -> list[bytes] | None:
        """The same nodes as a list in index order, or None where one of them is not
        stored (`level` then tells which): a whole level is compared in one go."""
        ...
    def leaf_count(self) -> int:
        """One more than the highest index with a stored leaf hash."""
        ...
    def add_nodes(self, nodes: Mapping[Node, bytes]) -> None: ...
    def add_head(self, head: SignedTreeHead) -> None: ...
    def latest_head(self) -> SignedTreeHead | None: ...
    def heads(self) -> list[SignedTreeHead]:
        """Every signed head, smallest first."""
        ...
    def heads_after(self, tree_size: int) -> HeadsAfter:
        """The heads larger than `tree_size` (-1: every head)."""
        ...


@dataclass(frozen=True, slots=True)
class OperatorAlert:
    """Something only the exchange's operator can mend (e.g. an audit entry that no longer
    reads, stopping integration at its index); cleared by the exchange once it is gone."""

    id: int
    at: datetime
    kind: str
    audit_index: int | None
    detail: str
    cleared_at: datetime | None


class OperatorAlerts(Protocol):
    def raise_once(self, kind: str, audit_index: int, detail: str,
                   at: datetime) -> OperatorAlert | None:
        """A new alert, or None if one of this kind about this entry is open already."""
        ...
    def clear_before(self, kind: str, audit_index: int, at: datetime) -> list[OperatorAlert]:
        """Clear the open alerts of this kind about entries before `audit_index`."""
        ...
    def listed(self, *, open_only: bool = False, limit: int = 100) -> list[OperatorAlert]:
        """Newest first."""
        ...


class AuditUnitOfWork(UnitOfWork, Protocol):
    """What recording an entry needs: every use case's refusals go through it."""

    @property
    def audit(self) -> AuditLog: ...


class AuditLogUnitOfWork(AuditUnitOfWork, Protocol):
    """The log's integration into its tree, its proofs and its checks."""

    @property
    def tree(self) -> AuditTree: ...
    @property
    def operator_alerts(self) -> OperatorAlerts: ...
