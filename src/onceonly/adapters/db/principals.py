"""Principals and their API tokens in the exchange database (ports.Principals)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from onceonly.adapters.db import tables as t
from onceonly.domain.organisations import MemberStatus, Principal, Role, TokenHolder

# Who is calling is read on every request: built once (see agreements.py).
_PRINCIPAL_BY_TOKEN = (
    select(t.principals, t.api_tokens.c.expires_at, t.api_tokens.c.revoked_at,
           t.organisations.c.status.label("member_status"))
    .join(t.api_tokens, t.api_tokens.c.principal_id == t.principals.c.id)
    .join(t.organisations, t.organisations.c.id == t.principals.c.org_id)
    .where(t.api_tokens.c.digest == bindparam("digest"))
)


class SqlPrincipals:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, principal_id: str) -> Principal | None:
        row = self.conn.execute(select(t.principals)
                                .where(t.principals.c.id == principal_id)).first()
        return None if row is None else principal_of(row)

    def add(self, principal: Principal, created_by: str | None = None) -> None:
        self.conn.execute(insert(t.principals).values(
            id=principal.id, name=principal.name, org_id=principal.org_id,
            role=principal.role.value, person_key=principal.person_key,
            system_id=principal.system_id, created_by=created_by))

    def add_token(self, digest: str, principal_id: str, issued_at: datetime,
                  expires_at: datetime) -> None:
        self.conn.execute(insert(t.api_tokens).values(
            digest=digest, principal_id=principal_id, issued_at=issued_at,
            expires_at=expires_at))

    def holder(self, digest: str) -> TokenHolder | None:
        row = self.conn.execute(_PRINCIPAL_BY_TOKEN, {"digest": digest}).first()
        return None if row is None else holder_of(row)


def principal_of(row: Any) -> Principal:
    return Principal(row.id, row.name, row.org_id, Role(row.role), row.person_key,
                     row.system_id)


def holder_of(row: Any) -> TokenHolder:
    return TokenHolder(principal_of(row), row.expires_at, row.revoked_at is not None,
                       row.disabled_at is not None, MemberStatus(row.member_status))
