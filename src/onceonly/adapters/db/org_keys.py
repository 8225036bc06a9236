"""The organisations' registered public keys, in the exchange database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from onceonly.adapters.db import tables as t
from onceonly.domain.org_keys import KeyPurpose, OrgKey

_KEYS = t.organisation_keys


def org_key_from_row(row: Any) -> OrgKey:
    purposes = {KeyPurpose.SIGN} if row.signs_requests else set()
    if row.verifies_received:
        purposes.add(KeyPurpose.VERIFY)
    return OrgKey(row.kid, row.org_id, dict(row.public_jwk), frozenset(purposes),
                  row.registered_at, row.registered_by, row.retired_at, row.not_after)


class SqlOrgKeys:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, kid: str) -> OrgKey | None:
        row = self.conn.execute(select(_KEYS).where(_KEYS.c.kid == kid)).first()
        return None if row is None else org_key_from_row(row)

    def kid_taken(self, kid: str) -> bool:
        hosted = select(t.signing_keys.c.kid).where(t.signing_keys.c.kid == kid)
        registered = select(_KEYS.c.kid).where(_KEYS.c.kid == kid)
        return self.conn.execute(hosted.union_all(registered)).first() is not None

    def add(self, key: OrgKey) -> None:
        self.conn.execute(insert(_KEYS).values(
            kid=key.kid, org_id=key.org_id, public_jwk=dict(key.jwk),
            signs_requests=KeyPurpose.SIGN in key.purposes,
            verifies_received=KeyPurpose.VERIFY in key.purposes,
            registered_at=key.registered_at, registered_by=key.registered_by,
            retired_at=key.retired_at, not_after=key.not_after))

    def retire(self, key: OrgKey) -> bool:
        result = self.conn.execute(
            update(_KEYS).where(_KEYS.c.kid == key.kid, _KEYS.c.retired_at.is_(None))
            .values(retired_at=key.retired_at, not_after=key.not_after))
        return result.rowcount == 1

    def list_for(self, org_id: str) -> list[OrgKey]:
        rows = self.conn.execute(select(_KEYS).where(_KEYS.c.org_id == org_id)
                                 .order_by(_KEYS.c.registered_at, _KEYS.c.kid))
        return [org_key_from_row(row) for row in rows]

    def hosted_for(self, org_id: str) -> list[tuple[str, bool]]:
        keys = t.signing_keys
        rows = self.conn.execute(select(keys.c.kid, keys.c.active)
                                 .where(keys.c.org_id == org_id)
                                 .order_by(keys.c.created_at))
        return [(row.kid, bool(row.active)) for row in rows]
