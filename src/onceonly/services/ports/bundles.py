"""Archive bundles: the entries about a provider's data in a period, read in index order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from onceonly.services.ports.audit import AuditTree, AuditUnitOfWork, LeafStream
from onceonly.services.ports.timestamps import HeadTimestamps
from onceonly.services.ports.witnesses import Cosignatures


class BundleEntries(Protocol):
    def count(self, provider: str | None, start: datetime, end: datetime, below: int) -> int:
        """Entries about `provider`'s data (None: every entry) appended at or after `start`
        and before `end`, with an index below `below`."""
        ...
    def leaves(self, provider: str | None, start: datetime, end: datetime,
               below: int) -> LeafStream:
        """Those entries (as `count` counts them) as their indexes and leaves, in index
        order, streamed; one that does not read is named in its leaf's place."""
        ...


@dataclass(frozen=True, slots=True)
class BundleExport:
    """A bundle written: whose entries, of which period, proven against which head."""

    provider_id: str | None
    start: datetime
    end: datetime
    tree_size: int
    entries: int
    sha256: str
    exported_at: datetime


class BundleExports(Protocol):
    def add(self, export: BundleExport) -> None: ...
    def not_exported(self, start: int, stop: int) -> tuple[int, int | None]:
        """Of the entries with an index in [start, stop), how many no bundle holds (by its
        provider, period and head), and the first of them."""
        ...
    def first_at_or_after(self, at: datetime) -> int | None:
        """The smallest index of an entry appended at or after `at`."""
        ...
    def pruned_below(self) -> int: ...
    def prune(self, below: int) -> None:
        """Remove the entries below `below` from the live log (their leaves and the tree's
        nodes stay); the mark moves there."""
        ...


class BundlesUnitOfWork(AuditUnitOfWork, Protocol):
    @property
    def bundle_entries(self) -> BundleEntries: ...
    @property
    def bundle_exports(self) -> BundleExports: ...
    @property
    def tree(self) -> AuditTree: ...
    @property
    def timestamps(self) -> HeadTimestamps: ...
    @property
    def cosignatures(self) -> Cosignatures: ...
