"""Organisations' signing keys, kept in the exchange database.

Keys never change once made (a new key is a new kid), so each process may keep the ones it
has loaded. The private halves are stored as JWKs; encrypting them at rest is the job of
the key-management work that follows.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from onceonly.adapters.db import tables as t
from onceonly.crypto.signing import SigningKey, jwks


class SqlKeyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._active: dict[str, SigningKey] = {}
        self._lock = threading.Lock()

    def sign_for(self, org_id: str, payload: bytes) -> tuple[str, str]:
        """A detached JWS over `payload` with the organisation's active key, and its kid."""
        key = self._active.get(org_id) or self._load(org_id)
        return key.sign_detached(payload), key.kid

    def sign_compact_for(self, org_id: str, payload: bytes) -> str:
        """A compact JWS carrying `payload`, with the organisation's active key."""
        return (self._active.get(org_id) or self._load(org_id)).sign(payload)

    def _load(self, org_id: str) -> SigningKey:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.signing_keys.c.private_jwk)
                .where(t.signing_keys.c.org_id == org_id, t.signing_keys.c.active.is_(True))
                .order_by(t.signing_keys.c.created_at.desc())
            ).first()
        if row is None:
            raise LookupError(f"{org_id} has no active signing key")
        key = SigningKey.from_private_jwk(org_id, row.private_jwk)
        with self._lock:
            self._active[org_id] = key
        return key

    def jwks(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.signing_keys.c.public_jwk).order_by(t.signing_keys.c.org_id)
            )
            return jwks(row.public_jwk for row in rows)


def add_signing_key(conn: Connection, org_id: str, now: datetime) -> SigningKey:
    key = SigningKey.generate(org_id)
    conn.execute(
        insert(t.signing_keys).values(
            kid=key.kid,
            org_id=org_id,
            private_jwk=key.private_jwk(),
            public_jwk=key.public_jwk(),
            created_at=now,
            active=True,
        )
    )
    return key
