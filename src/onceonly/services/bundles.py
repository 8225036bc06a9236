"""Archive bundles (docs/audit-bundles.md): the entries about a provider's data in a period,
each with its inclusion proof to one signed tree head, that head with its RFC 3161
timestamp and its witnesses' cosignatures, and every public key needed to check it all
offline. `audit.bundles.verify` checks one."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from onceonly.audit import merkle
from onceonly.audit.bundles import Period, entry_line, header_line
from onceonly.audit.entries import AuditEntry, UnreadableEntry, timestamp
from onceonly.audit.heads import SignedTreeHead, b64
from onceonly.domain.errors import conflict, invalid
from onceonly.services.ports.bundles import BundleExport, BundlesUnitOfWork
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import refuse

CHUNK = 1024  # entries read and proven at a time


@dataclass(frozen=True, slots=True)
class Exported:
    provider: str | None
    start: datetime
    end: datetime
    entries: int
    tree_size: int  # the head every entry is proven against
    timestamped: bool
    cosignatures: int
    sha256: str  # of the bundle as written


@dataclass(frozen=True, slots=True)
class Pruned:
    before: int  # entries below this index are no longer in the live log
    removed: int  # by this prune


class _Hashing:
    """Writes through to `out`, hashing what passes."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.out.write(data)


@dataclass(frozen=True, slots=True)
class BundleKeys:
    """The public keys a bundle carries, read when a bundle is made."""

    jwks: Callable[[], dict[str, Any]]  # the log operator's
    witnesses: Callable[[], list[str]]  # verifier keys
    tsa_roots: Callable[[], list[str]]  # PEM certificates


class BundleService:
    def __init__(self, uows: UnitOfWorkFactory[BundlesUnitOfWork], clock: Clock,
                 keys: BundleKeys, *, origin: str, log_org: str) -> None:
        self.uows = uows
        self.clock = clock
        self.keys = keys
        self.origin = origin
        self.log_org = log_org

    def export(self, provider: str | None, start: datetime, end: datetime,
               out: BinaryIO) -> Exported:
        """Write the bundle of `provider`'s entries (None: every entry) appended in
        [start, end), proven against the newest signed head that has an RFC 3161 timestamp
        (the latest head if none has)."""
        if start >= end:
            raise invalid("empty_period", "the period ends before it starts")
        hashing = _Hashing(out)
        with self.uows() as uow:  # one snapshot for the whole bundle
            head, stamp = self._head(uow)
            size = head.head.tree_size
            count = uow.bundle_entries.count(provider, start, end, size)
            vkeys = self.keys.witnesses()
            named = {vkey.partition("+")[0] for vkey in vkeys}
            cosignatures = [c for c in uow.cosignatures.of(size) if c.witness in named]
            hashing.write(header_line(
                provider=provider, period=Period(timestamp(start), timestamp(end)),
                origin=self.origin, log_org=self.log_org, head=head,
                cosignatures=[{"witness": c.witness, "timestamp": c.timestamp,
                               "signature": b64(c.signature)} for c in cosignatures],
                rfc3161=stamp, jwks=self._jwks(), witnesses=vkeys,
                tsa_roots=self.keys.tsa_roots(), entries=count))
            written = self._write_entries(uow, hashing, provider, start, end, size)
        if written != count:  # the snapshot moved: a bundle must not say otherwise
            raise RuntimeError(f"the bundle holds {written} entries, {count} were counted")
        return Exported(provider, start, end, count, size, stamp is not None,
                        len(cosignatures), hashing.digest.hexdigest())

    def record(self, exported: Exported) -> None:
        """Note a bundle kept (its file written in full): its entries may now be pruned."""
        now = self.clock.now()
        with self.uows(write=True) as uow:
            uow.bundle_exports.add(BundleExport(
                exported.provider, exported.start, exported.end, exported.tree_size,
                exported.entries, exported.sha256, now))
            uow.audit.record(AuditEntry(
                "audit.export", "done", None, None, provider_id=exported.provider,
                detail={"from": timestamp(exported.start), "to": timestamp(exported.end),
                        "entries": exported.entries, "tree_size": exported.tree_size,
                        "sha256": exported.sha256}), now)
            uow.commit()

    def prune(self, before: datetime) -> Pruned:
        """Remove from the live log the entries appended before `before`, once a recorded
        bundle holds every one of them; the tree keeps their leaves, so every proof still
        verifies. Refused (nothing removed) while any is in no bundle."""
        now = self.clock.now()
        with self.uows(write=True) as uow:
            uow.tree.lock()  # not while integration reads them
            exports = uow.bundle_exports
            start = exports.pruned_below()
            latest = uow.tree.latest_head()
            signed = latest.head.tree_size if latest else 0
            first = exports.first_at_or_after(before)
            stop = min(signed, first if first is not None else signed)
            if stop <= start:
                return Pruned(start, 0)
            missing, first_missing = exports.not_exported(start, stop)
            if not missing:
                exports.prune(stop)
                uow.audit.record(AuditEntry("audit.prune", "done", None, None,
                                            detail={"from": start, "to": stop}), now)
                uow.commit()
                return Pruned(stop, stop - start)
        # Out of the write unit of work: the refusal is recorded in one of its own.
        refuse(self.uows, self.clock, AuditEntry(
            "audit.prune", "deny", None, None, reason="entries_not_exported",
            detail={"from": start, "to": stop, "not_exported": missing}),
            conflict("entries_not_exported", (
                f"{missing} of the entries to remove are in no bundle, the first entry "
                f"{first_missing}: export them first (`onceonly audit export`)")))

    def _jwks(self) -> dict[str, Any]:
        return {"keys": [key for key in self.keys.jwks().get("keys", [])
                         if key.get("org") == self.log_org]}

    def _head(self, uow: BundlesUnitOfWork) -> tuple[SignedTreeHead, dict[str, Any] | None]:
        latest = uow.tree.latest_head()
        if latest is None:
            raise invalid("no_tree_head", "the log has no signed tree head yet: run "
                                          "`onceonly audit integrate`")
        stamped = uow.timestamps.newest()
        if stamped is None:
            return latest, None
        heads = {h.head.tree_size: h for h in uow.tree.heads()} \
            if stamped != latest.head.tree_size else {stamped: latest}
        token = uow.timestamps.of(stamped)
        assert token is not None
        return heads[stamped], {"authority": token.authority,
                                "stamped_at": token.stamped_at.isoformat(),
                                "token": b64(token.token)}

    def _write_entries(self, uow: BundlesUnitOfWork, out: _Hashing, provider: str | None,
                       start: datetime, end: datetime, size: int) -> int:
        written = 0
        # Closed here, not when collected: a cursor must not outlive its unit of work.
        with closing(uow.bundle_entries.leaves(provider, start, end, size)) as leaves:
            while chunk := list(itertools.islice(leaves, CHUNK)):
                written += self._write_chunk(uow, out, chunk, size)
        return written

    def _write_chunk(self, uow: BundlesUnitOfWork, out: _Hashing,
                     chunk: list[tuple[int, bytes | UnreadableEntry]], size: int) -> int:
        levels = _stored_levels(uow, chunk[0][0], chunk[-1][0], size)
        encoded = _Base64()
        for index, leaf in chunk:
            if isinstance(leaf, UnreadableEntry):
                raise RuntimeError(f"cannot bundle {leaf}: `onceonly audit verify` says more")
            if levels[0].get(index) != merkle.leaf_hash(leaf):
                raise RuntimeError(f"cannot bundle entry {index}: it differs from the entry "
                                   "the tree holds; `onceonly audit verify` says more")
        proofs = merkle.inclusion_proofs([index for index, _ in chunk], size, levels)
        lines = [entry_line(leaf, proof, encode=encoded.__getitem__)
                 for (_, leaf), proof in zip(chunk, proofs, strict=True)]
        out.write(b"".join(lines))
        return len(chunk)


class _Base64(dict[bytes, str]):
    """Each node's base64 once a chunk: the entries of a chunk share most of their proofs."""

    def __missing__(self, node: bytes) -> str:
        self[node] = encoded = b64(node)
        return encoded


def _stored_levels(uow: BundlesUnitOfWork, first: int, last: int,
                   size: int) -> list[dict[int, bytes]]:
    """Every stored node the inclusion proofs of entries `first` to `last` can need in the
    tree of `size`, by level, a range per level and side: an entry's path runs beside its
    own ancestors (near `index >> level`) and along the tree's right edge (near
    `size >> level`); the leaves of the entries themselves come with level 0."""
    levels: list[dict[int, bytes]] = []
    for level in range(size.bit_length() + 1):
        near = (max(0, (first >> level) - 1), (last >> level) + 2)
        edge = (max(0, (size >> level) - 2), (size >> level) + 1)
        spans = [near, edge] if edge[0] > near[1] else [(near[0], max(near[1], edge[1]))]
        levels.append({})
        for start, stop in spans:
            levels[level].update(uow.tree.level(level, start, stop))
    return levels
