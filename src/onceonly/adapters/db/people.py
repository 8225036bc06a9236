"""People (services/people.py): the person index's identifiers, read for
`onceonly people list`, and the staff who act for organisations."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, Engine, func, insert, select, update

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.driver import BulkInsert
from onceonly.domain.organisations import Principal, Role, Training
from onceonly.services.ports.people import StaffMember


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


class SqlStaff:
    """The people who act for organisations, and their training records."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def of_org(self, org_id: str, now: datetime) -> list[StaffMember]:
        p, tr, tok = t.principals, t.training_records, t.api_tokens
        live = (select(func.count()).select_from(tok)
                .where(tok.c.principal_id == p.c.id, tok.c.revoked_at.is_(None),
                       tok.c.expires_at > now).scalar_subquery())
        rows = self.conn.execute(
            select(p, tr.c.completed_on, tr.c.valid_until, live.label("live_tokens"))
            .outerjoin(tr, tr.c.principal_id == p.c.id)
            .where(p.c.org_id == org_id, p.c.role != Role.CITIZEN.value)
            .order_by(p.c.id))
        return [StaffMember(
            Principal(r.id, r.name, r.org_id, Role(r.role), r.person_key, r.system_id),
            r.disabled_at,
            Training(r.completed_on, r.valid_until) if r.completed_on else None,
            r.live_tokens) for r in rows]

    def disable(self, principal_id: str, at: datetime) -> bool:
        result = self.conn.execute(update(t.principals).where(
            t.principals.c.id == principal_id, t.principals.c.disabled_at.is_(None))
            .values(disabled_at=at))
        return result.rowcount == 1

    def revoke_tokens(self, principal_id: str, at: datetime) -> int:
        result = self.conn.execute(update(t.api_tokens).where(
            t.api_tokens.c.principal_id == principal_id, t.api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at))
        return result.rowcount

    def training(self, principal_id: str) -> Training | None:
        tr = t.training_records
        row = self.conn.execute(select(tr.c.completed_on, tr.c.valid_until)
                                .where(tr.c.principal_id == principal_id)).first()
        return Training(row.completed_on, row.valid_until) if row else None

    def set_training(self, principal_id: str, training: Training, by: str,
                     at: datetime) -> None:
        tr = t.training_records
        values = {"completed_on": training.completed_on, "valid_until": training.valid_until,
                  "recorded_by": by, "recorded_at": at}
        done = self.conn.execute(update(tr).where(tr.c.principal_id == principal_id)
                                 .values(**values))
        if done.rowcount == 0:
            self.conn.execute(insert(tr).values(principal_id=principal_id, **values))


class SqlPersonIndexLoad:
    """Loading the person index in bulk (a new world's people, linked under each
    identifier they hold)."""

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
            try:
                yield links
                links.flush()
            finally:  # the index is whole again, whatever was loaded
                with conn.begin():
                    by_person.create(conn)
