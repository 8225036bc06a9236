"""The person index's identifiers, read for `onceonly people` (services/people.py)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, select

from onceonly.adapters.db import tables as t


class SqlPersonIdentifiers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def schemes_of(self, org_id: str) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(
                select(t.organisation_schemes.c.scheme)
                .where(t.organisation_schemes.c.org_id == org_id)).scalars())

    def identifiers(self, schemes: Sequence[str], limit: int) -> list[tuple[str, str]]:
        links = t.person_links
        with self.engine.connect() as conn:
            return [(row.scheme, row.value) for row in conn.execute(
                select(links.c.scheme, links.c.value).where(links.c.scheme.in_(schemes))
                .order_by(links.c.scheme, links.c.value).limit(limit))]
