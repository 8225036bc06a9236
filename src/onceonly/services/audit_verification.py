"""Verifying the whole audit log (`onceonly audit verify`): every entry against its leaf,
every stored node against the tree recomputed, and every signed tree head."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from onceonly.audit import merkle
from onceonly.audit.entries import UnreadableEntry
from onceonly.audit.heads import (
    DEFAULT_LOG_ORG,
    EMPTY_TREE,
    HeadRef,
    SignedTreeHead,
    TreeHead,
    verify_tree_head,
)
from onceonly.crypto.signing import SignatureInvalid
from onceonly.services.ports.audit import AuditLogUnitOfWork
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory


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
        held = min(stop, covered)
        stored = uow.tree.complete_level(0, start, held)
        by_index = None if stored is not None else uow.tree.level(0, start, held)
        if by_index is not None:  # the tree lacks a leaf here: the run before the gap
            stored = list(itertools.takewhile(
                lambda digest: digest is not None, map(by_index.get, range(start, held))))
        assert stored is not None
        leaves = _pruned_leaves(stored, start, min(stop, pruned))
        # Closed here, not when collected: a cursor must not outlive its unit of work.
        with closing(uow.audit.leaf_hashes(start + len(leaves), stop, stored[len(leaves):])
                     ) as batches:
            for indexes, digests in batches:
                first = start + len(leaves)
                # A whole batch in one comparison; entry by entry only to name a fault (or
                # past the leaves the tree holds without a gap).
                if (digests == stored[first - start:first - start + len(digests)]
                        and indexes == list(range(first, first + len(indexes)))):
                    leaves += digests  # type: ignore[arg-type]
                else:
                    if by_index is None:
                        by_index = dict(enumerate(stored, start))
                    _check_leaves(indexes, digests, start, covered, by_index, leaves)
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


def _check_leaves(indexes: list[int], digests: list[bytes | UnreadableEntry], start: int,
                  covered: int, stored: dict[int, bytes], leaves: list[bytes]) -> None:
    """Each entry of a batch in its place, readable, and hashing to the leaf the tree holds;
    its leaf hash appended to `leaves` (which holds those from `start` on)."""
    for index, digest in zip(indexes, digests, strict=True):
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


def _pruned_leaves(stored: list[bytes], start: int, stop: int) -> list[bytes]:
    """Entries removed after export (archive bundles) are checked by the leaves the tree
    keeps of them (`stored`, from `start` on without a gap): those are what every proof and
    root is made from."""
    if start + len(stored) < stop:
        missing = start + len(stored)
        raise _Bad(missing, f"entry {missing} was removed after export, and the tree holds "
                            "no leaf for it")
    return stored[:max(0, stop - start)]


def _check_nodes(uow: AuditLogUnitOfWork, tree: merkle.MemoryTree, covered: int,
                 chunk: int) -> None:
    """Proofs and roots are read from the stored interior nodes: each must be the hash
    recomputed from the entries, or a citizen's proof fails while the log verifies."""
    for level in range(1, covered.bit_length()):
        computed = tree.levels[level]
        count = covered >> level
        for start in range(0, count, chunk):
            stop = min(start + chunk, count)
            # A chunk in one comparison; node by node only to name the first that differs.
            if uow.tree.complete_level(level, start, stop) == computed[start:stop]:
                continue
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
