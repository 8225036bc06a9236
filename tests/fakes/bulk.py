"""Bulk extracts: a state is written only over the state it was read in."""

from __future__ import annotations

from dataclasses import replace

from onceonly.domain.bulk import BulkExtract
from onceonly.domain.errors import conflict
from tests.fakes.data import FakeData


class FakeBulkExtracts:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def add(self, extract: BulkExtract) -> BulkExtract:
        stored = replace(extract, id=self.data.next_id("bulk"))
        self.data.bulk[stored.id] = stored  # type: ignore[index]
        return stored

    def get(self, extract_id: int) -> BulkExtract | None:
        return self.data.bulk.get(extract_id)

    def save(self, extract: BulkExtract, was: str) -> None:
        assert extract.id is not None
        if self.data.bulk[extract.id].status != was:
            raise conflict("concurrent_update", "the extract changed meanwhile; read it again")
        self.data.bulk[extract.id] = extract
