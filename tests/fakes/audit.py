"""The audit log, as a list of records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from onceonly.audit.entries import AuditEntry, AuditRecord, UnreadableEntry
from onceonly.audit.merkle import leaf_hash
from onceonly.services.ports.audit import AuditSearch, LeafHashBatches
from tests.fakes.data import FakeData


class FakeAuditLog:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def record(self, entry: AuditEntry, at: datetime) -> int:
        index = len(self.data.audit)
        self.data.audit.append(AuditRecord(index, at, entry))
        return index

    def size(self) -> int | None:
        return len(self.data.audit)

    def pruned_below(self) -> int:
        return 0

    def entries(self, start: int, stop: int) -> list[AuditRecord | UnreadableEntry]:
        return list(self.data.audit[start:stop])

    def leaf_hashes(self, start: int, stop: int, stored: Sequence[bytes]) -> LeafHashBatches:
        records = self.data.audit[start:stop]
        if records:
            yield [record.index for record in records], [
                leaf_hash(record.leaf()) if isinstance(record, AuditRecord) else record
                for record in records]

    def entry(self, index: int) -> AuditRecord | UnreadableEntry | None:
        return self.data.audit[index] if 0 <= index < len(self.data.audit) else None

    def search(self, search: AuditSearch) -> list[AuditRecord | UnreadableEntry]:
        found: list[AuditRecord | UnreadableEntry] = []
        for record in reversed(self.data.audit):
            e = record.entry
            if ((search.before is None or record.index < search.before)
                    and search.provider_id in (None, e.provider_id)
                    and search.org_id in (None, e.org_id)
                    and search.actor_id in (None, e.actor_id)
                    and search.person_key in (None, e.person_key)
                    and (not search.actions or e.action in search.actions)
                    and (search.revealed_at is None or e.hidden_until is None
                         or e.hidden_until <= search.revealed_at)):
                found.append(record)
        return found[:search.limit]
