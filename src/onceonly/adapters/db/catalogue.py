"""The catalogue in the exchange database (ports.CatalogueRepository): organisations with
their systems, datasets with their versions, and a dataset's connector configuration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, select

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.mappers import dataset_from_row
from onceonly.domain.catalogue import Dataset, DatasetVersion
from onceonly.domain.organisations import MemberStatus, Organisation

# Built once with bound parameters: a governed query reads a dataset and its connector
# (see agreements.py).
_DATASET_BY_ID = select(t.datasets).where(t.datasets.c.id == bindparam("dataset_id"))
_CONNECTOR_BY_DATASET = select(t.datasets.c.connector).where(
    t.datasets.c.id == bindparam("dataset_id"))


class SqlCatalogue:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        # Connector configs of the dataset rows read in this transaction: a query reads
        # the dataset and then its connector, and the row holds both.
        self._connectors: dict[str, Mapping[str, Any]] = {}

    def organisation(self, org_id: str) -> Organisation | None:
        row = self.conn.execute(
            select(t.organisations).where(t.organisations.c.id == org_id)
        ).first()
        if row is None:
            return None
        systems = self.conn.execute(
            select(t.systems.c.id).where(t.systems.c.org_id == org_id).order_by(t.systems.c.id)
        ).scalars()
        return Organisation(row.id, row.name, tuple(systems), MemberStatus(row.status))

    def organisations(self) -> list[Organisation]:
        systems: dict[str, list[str]] = {}
        for sid, org in self.conn.execute(
            select(t.systems.c.id, t.systems.c.org_id).order_by(t.systems.c.id)
        ):
            systems.setdefault(org, []).append(sid)
        return [
            Organisation(r.id, r.name, tuple(systems.get(r.id, ())), MemberStatus(r.status))
            for r in self.conn.execute(select(t.organisations).order_by(t.organisations.c.id))
        ]

    def dataset(self, dataset_id: str) -> Dataset | None:
        row = self.conn.execute(_DATASET_BY_ID, {"dataset_id": dataset_id}).first()
        if row is None:
            return None
        self._connectors[row.id] = row.connector
        return dataset_from_row(row)

    def datasets(self) -> list[Dataset]:
        rows = self.conn.execute(select(t.datasets).order_by(t.datasets.c.id))
        return [dataset_from_row(r) for r in rows]

    def versions(self) -> dict[str, list[DatasetVersion]]:
        """Every dataset's published versions, oldest first; a dataset from before versions
        were kept shows its current one."""
        found: dict[str, list[DatasetVersion]] = {}
        rows = self.conn.execute(select(t.dataset_versions).order_by(
            t.dataset_versions.c.dataset_id, t.dataset_versions.c.version))
        for row in rows:
            found.setdefault(row.dataset_id, []).append(DatasetVersion(
                row.version, row.title, tuple(f["name"] for f in row.fields),
                tuple(row.offers), row.published_at, row.published_by))
        for dataset in self.datasets():
            if dataset.id not in found:
                found[dataset.id] = [DatasetVersion(
                    dataset.version, dataset.title, tuple(f.name for f in dataset.fields),
                    dataset.offers, None, "")]
        return found

    def connector_config(self, dataset_id: str) -> Mapping[str, Any]:
        known = self._connectors.get(dataset_id)
        if known is not None:
            return known
        return self.conn.execute(_CONNECTOR_BY_DATASET, {"dataset_id": dataset_id}).scalar_one()
