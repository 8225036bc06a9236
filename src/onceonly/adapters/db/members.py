"""Members over SQL: organisations and their status, systems, identifier schemes, and each
member's history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from onceonly.adapters.db import tables as t
from onceonly.domain.organisations import MemberStatus, Organisation, Scheme
from onceonly.services.ports.members import MemberEvent


class SqlMembers:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def any(self) -> bool:
        return self.conn.execute(select(t.organisations.c.id).limit(1)).first() is not None

    def add(self, org: Organisation, at: datetime, *, operator: bool = False) -> None:
        self.conn.execute(insert(t.organisations).values(
            id=org.id, name=org.name, status=org.status.value, registered_at=at,
            operator=operator))

    def operator(self) -> str | None:
        return self.conn.execute(select(t.organisations.c.id)
                                 .where(t.organisations.c.operator)).scalar_one_or_none()

    def set_status(self, org_id: str, status: MemberStatus) -> None:
        self.conn.execute(update(t.organisations).where(t.organisations.c.id == org_id)
                          .values(status=status.value))

    def system_exists(self, system_id: str) -> bool:
        return self.conn.execute(select(t.systems.c.id)
                                 .where(t.systems.c.id == system_id)).first() is not None

    def add_system(self, system_id: str, org_id: str, title: str) -> None:
        self.conn.execute(insert(t.systems).values(id=system_id, org_id=org_id, title=title))

    def scheme(self, code: str) -> Scheme | None:
        row = self.conn.execute(select(t.identifier_schemes)
                                .where(t.identifier_schemes.c.code == code)).first()
        return None if row is None else Scheme(row.code, row.name, row.issuer_id, row.pattern)

    def add_scheme(self, scheme: Scheme) -> None:
        self.conn.execute(insert(t.identifier_schemes).values(
            code=scheme.code, name=scheme.name, issuer_id=scheme.issuer_id,
            pattern=scheme.pattern))
        self.conn.execute(insert(t.organisation_schemes).values(org_id=scheme.issuer_id,
                                                                scheme=scheme.code))

    def names_people_by(self, org_id: str) -> list[str]:
        return list(self.conn.execute(
            select(t.organisation_schemes.c.scheme)
            .where(t.organisation_schemes.c.org_id == org_id)
            .order_by(t.organisation_schemes.c.scheme)).scalars())

    def name_people_by(self, org_id: str, code: str) -> None:
        self.conn.execute(insert(t.organisation_schemes).values(org_id=org_id, scheme=code))

    def schemes(self) -> list[Scheme]:
        rows = self.conn.execute(select(t.identifier_schemes)
                                 .order_by(t.identifier_schemes.c.code))
        return [Scheme(r.code, r.name, r.issuer_id, r.pattern) for r in rows]

    def record(self, event: MemberEvent) -> None:
        self.conn.execute(insert(t.member_events).values(
            org_id=event.org_id, at=event.at, action=event.action, actor_id=event.actor_id,
            reason=event.reason, agreement_ids=list(event.agreement_ids)))

    def history(self, org_id: str) -> list[MemberEvent]:
        e = t.member_events
        rows = self.conn.execute(select(e).where(e.c.org_id == org_id).order_by(e.c.id))
        return [MemberEvent(r.org_id, r.at, r.action, r.actor_id, r.reason,
                            tuple(r.agreement_ids)) for r in rows]
