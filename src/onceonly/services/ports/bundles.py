"""Archive bundles: the entries about a provider's data in a period, read in index order."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from onceonly.audit.entries import AuditRecord, UnreadableEntry
from onceonly.services.ports.audit import AuditTree
from onceonly.services.ports.timestamps import HeadTimestamps
from onceonly.services.ports.unit_of_work import UnitOfWork
from onceonly.services.ports.witnesses import Cosignatures


class BundleEntries(Protocol):
    def count(self, provider: str | None, start: datetime, end: datetime, below: int) -> int:
        """Entries about `provider`'s data (None: every entry) appended at or after `start`
        and before `end`, with an index below `below`."""
        ...
    def about(self, provider: str | None, start: datetime, end: datetime, after: int,
              below: int, limit: int) -> list[AuditRecord | UnreadableEntry]:
        """Those entries with an index above `after`, in index order, at most `limit`."""
        ...


class BundlesUnitOfWork(UnitOfWork, Protocol):
    @property
    def bundle_entries(self) -> BundleEntries: ...
    @property
    def tree(self) -> AuditTree: ...
    @property
    def timestamps(self) -> HeadTimestamps: ...
    @property
    def cosignatures(self) -> Cosignatures: ...
