"""Loading the person index in bulk (a new world's people, linked under each identifier
they hold), for services.ports.person_index.PersonIndexLoad."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.bulk_insert import BulkInsert


class SqlPersonIndexLoad:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def loading(self) -> Iterator[BulkInsert]:
        """A loader of links (`add({"scheme", "value", "person_key"})`, `flush()`), the
        index by person rebuilt once at the end: its keys arrive in random (hashed) order,
        so keeping it row by row would rewrite most of its pages on every flush."""
        by_person = next(i for i in t.person_links.indexes if i.name == "ix_person_links_person")
        with self.engine.connect() as conn:
            with conn.begin():
                by_person.drop(conn)
            links = BulkInsert(conn, t.person_links)
            yield links
            links.flush()
            with conn.begin():
                by_person.create(conn)
