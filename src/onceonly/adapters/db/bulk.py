"""Bulk extracts in the exchange database: requests, decisions, and the JWE until it is
downloaded (then only its count and hash remain)."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from sqlalchemy import Connection, insert, select, update

from onceonly.adapters.db import tables as t
from onceonly.domain.bulk import BulkExtract
from onceonly.domain.errors import conflict

_COLUMNS = [c.name for c in t.bulk_extracts.columns if c.name != "id"]


def _extract(row: Any) -> BulkExtract:
    values = {name: getattr(row, name) for name in _COLUMNS}
    cohort = values["cohort"]
    values["cohort"] = None if cohort is None else tuple((s, v) for s, v in cohort)
    return BulkExtract(id=row.id, **values)


def _row(extract: BulkExtract) -> dict[str, Any]:
    values = {name: value for name, value in asdict(extract).items() if name in _COLUMNS}
    values["cohort"] = None if extract.cohort is None else [list(c) for c in extract.cohort]
    return values


class SqlBulkExtracts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, extract: BulkExtract) -> BulkExtract:
        new_id = self.conn.execute(insert(t.bulk_extracts).values(**_row(extract))
                                   .returning(t.bulk_extracts.c.id)).scalar_one()
        return replace(extract, id=new_id)

    def get(self, extract_id: int) -> BulkExtract | None:
        row = self.conn.execute(select(t.bulk_extracts)
                                .where(t.bulk_extracts.c.id == extract_id)).first()
        return _extract(row) if row else None

    def save(self, extract: BulkExtract, was: str) -> None:
        """Write the new state if the extract is still in state `was`: of two racing
        downloads, one gets it."""
        result = self.conn.execute(
            update(t.bulk_extracts)
            .where(t.bulk_extracts.c.id == extract.id, t.bulk_extracts.c.status == was)
            .values(**_row(extract)))
        if result.rowcount != 1:
            raise conflict("concurrent_update", "the extract changed meanwhile; read it again")
