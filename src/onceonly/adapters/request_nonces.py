"""What signed-request verification reads and writes in the exchange database: the
organisations' public signing keys (read only) and the nonces already seen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from onceonly.adapters.db.tables import request_nonces, signing_keys


class SqlVerificationKeys:
    """Public keys by kid: only active ones. A retired key no longer speaks for its
    organisation (its signed releases still verify at /.well-known/jwks.json)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def public_key(self, kid: str) -> tuple[str, dict[str, Any]] | None:
        if len(kid) > 64:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(signing_keys.c.org_id, signing_keys.c.public_jwk)
                               .where(signing_keys.c.kid == kid,
                                      signing_keys.c.active.is_(True))).first()
        return None if row is None else (row.org_id, dict(row.public_jwk))


class SqlNonceStore:
    """Insert-if-absent on the primary key (kid, nonce): atomic on SQLite and PostgreSQL
    alike, whichever process asks. Expired nonces are swept as new ones arrive."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def remember(self, kid: str, nonce: str, expires_at: datetime, now: datetime) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(request_nonces).where(request_nonces.c.expires_at < now))
                conn.execute(insert(request_nonces).values(kid=kid, nonce=nonce,
                                                           expires_at=expires_at))
        except IntegrityError:
            return False
        return True
