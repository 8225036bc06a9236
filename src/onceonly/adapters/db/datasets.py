"""Publishing datasets in the exchange database: the current version in `datasets`, every
version in `dataset_versions`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.mappers import agreement_from_row, dataset_fields_to_json
from onceonly.domain.agreements import Agreement
from onceonly.domain.catalogue import Dataset


class SqlDatasets:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def system_owner(self, system_id: str) -> str | None:
        return self.conn.execute(select(t.systems.c.org_id)
                                 .where(t.systems.c.id == system_id)).scalar()

    def known_scheme(self, code: str) -> bool:
        return self.conn.execute(select(t.identifier_schemes.c.code)
                                 .where(t.identifier_schemes.c.code == code)).first() is not None

    def register_of(self, event_type: str) -> str | None:
        return self.conn.execute(select(t.datasets.c.id)
                                 .where(t.datasets.c.event_type == event_type)).scalar()

    def agreements_on(self, dataset_id: str) -> list[Agreement]:
        rows = self.conn.execute(select(t.agreements)
                                 .where(t.agreements.c.dataset_id == dataset_id)
                                 .order_by(t.agreements.c.id))
        return [agreement_from_row(row) for row in rows]

    def publish(self, dataset: Dataset, connector: Mapping[str, Any], at: datetime,
                by: str) -> bool:
        values = {"title": dataset.title, "subject_scheme": dataset.subject_scheme,
                  "fields": dataset_fields_to_json(dataset.fields),
                  "connector": dict(connector), "event_type": dataset.event_type,
                  "offers": list(dataset.offers), "version": dataset.version}
        if dataset.version == 1:
            self.conn.execute(insert(t.datasets).values(
                id=dataset.id, provider_id=dataset.provider_id, **values))
        else:
            self._keep_unrecorded(dataset.id, dataset.version - 1)
            result = self.conn.execute(
                update(t.datasets).where(t.datasets.c.id == dataset.id,
                                         t.datasets.c.version == dataset.version - 1)
                .values(**values))
            if result.rowcount != 1:
                return False
        self.conn.execute(insert(t.dataset_versions).values(
            dataset_id=dataset.id, version=dataset.version, title=dataset.title,
            fields=values["fields"], offers=values["offers"], event_type=dataset.event_type,
            connector_kind=str(connector.get("kind", "")), published_at=at, published_by=by))
        return True

    def _keep_unrecorded(self, dataset_id: str, version: int) -> None:
        """Record the version about to be replaced if it is from before versions were kept
        (published_at NULL), so the catalogue still lists it."""
        versions = t.dataset_versions
        if self.conn.execute(select(versions.c.version).where(
                versions.c.dataset_id == dataset_id, versions.c.version == version)).first():
            return
        row = self.conn.execute(select(t.datasets).where(
            t.datasets.c.id == dataset_id, t.datasets.c.version == version)).first()
        if row is None:  # another version came meanwhile: the update will say so
            return
        self.conn.execute(insert(versions).values(
            dataset_id=dataset_id, version=version, title=row.title, fields=row.fields,
            offers=list(row.offers or []), event_type=row.event_type,
            connector_kind=str(dict(row.connector).get("kind", "")), published_at=None,
            published_by=""))
