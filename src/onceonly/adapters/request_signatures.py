"""What signed-request verification reads and writes in the exchange database: the
organisations' public signing keys (read only) and the nonces already seen."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, bindparam, delete, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from onceonly.adapters.db.tables import (
    UTCDateTime,
    organisation_keys,
    request_nonces,
    signing_keys,
)
from onceonly.services.ports.request_signatures import KEY_RETIRED, NONCE_NEW, NONCE_REPLAYED

# Expired nonces are swept at most this often by each process, not with every insert: an
# expired nonce left in the table is taken over by the insert itself (below).
SWEEP_EVERY = timedelta(seconds=60)

# A key speaks for its organisation: a hosted key while active, a key the organisation
# registered to sign with until its `not_after` (a retired key's overlap).
_ACTIVE_KEY = or_(
    exists().where(signing_keys.c.kid == bindparam("kid"), signing_keys.c.active.is_(True)),
    exists().where(organisation_keys.c.kid == bindparam("kid"),
                   organisation_keys.c.signs_requests.is_(True),
                   or_(organisation_keys.c.not_after.is_(None),
                       organisation_keys.c.not_after > bindparam("now", type_=UTCDateTime))))


def _remember_statement(dialect_insert: Any) -> Any:
    """Record the nonce while its key is active: a new pair is inserted, an expired one is
    taken over, an unexpired one is left as it is. A row comes back only if recorded."""
    candidate = select(bindparam("kid", type_=String), bindparam("nonce", type_=String),
                       bindparam("expires_at", type_=UTCDateTime)).where(_ACTIVE_KEY)
    statement = dialect_insert(request_nonces).from_select(
        ["kid", "nonce", "expires_at"], candidate)
    return statement.on_conflict_do_update(
        index_elements=[request_nonces.c.kid, request_nonces.c.nonce],
        set_={"expires_at": statement.excluded.expires_at},
        where=request_nonces.c.expires_at < bindparam("now", type_=UTCDateTime),
    ).returning(request_nonces.c.nonce)


_REMEMBER = {"postgresql": _remember_statement(pg_insert),
             "sqlite": _remember_statement(sqlite_insert)}


class SqlVerificationKeys:
    """Public keys by kid (hosted, or registered by the organisation to sign with), read once
    per process: a kid's key material never changes. That the key is still active (a retired
    hosted key no longer speaks for its organisation, though its signed releases still
    verify at /.well-known/jwks.json; a retired registered key speaks until its `not_after`)
    is checked with the nonce, in the same statement, on every request."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._known: dict[str, tuple[str, dict[str, Any]]] = {}

    def public_key(self, kid: str) -> tuple[str, dict[str, Any]] | None:
        if len(kid) > 64:
            return None
        known = self._known.get(kid)
        if known is not None:
            return known
        with self.engine.connect() as conn:
            row = conn.execute(select(signing_keys.c.org_id, signing_keys.c.public_jwk)
                               .where(signing_keys.c.kid == kid,
                                      signing_keys.c.active.is_(True))).first()
            if row is None:  # one the organisation registered to sign with
                row = conn.execute(
                    select(organisation_keys.c.org_id, organisation_keys.c.public_jwk)
                    .where(organisation_keys.c.kid == kid,
                           organisation_keys.c.signs_requests.is_(True))).first()
        if row is None:
            return None
        self._known[kid] = found = (row.org_id, dict(row.public_jwk))
        return found


class SqlNonceStore:
    """Insert-if-absent on the primary key (kid, nonce): atomic on SQLite and PostgreSQL
    alike, whichever process asks."""

    def __init__(self, engine: Engine, sweep_every: timedelta = SWEEP_EVERY) -> None:
        self.engine = engine
        self.sweep_every = sweep_every
        self._swept_at: datetime | None = None
        self._sweeping = threading.Lock()

    def remember(self, kid: str, nonce: str, expires_at: datetime, now: datetime) -> str:
        with self.engine.begin() as conn:
            if self._sweep_due(now):
                conn.execute(delete(request_nonces).where(request_nonces.c.expires_at < now))
            recorded = conn.execute(_REMEMBER[conn.dialect.name], {
                "kid": kid, "nonce": nonce, "expires_at": expires_at, "now": now}).first()
            if recorded is not None:
                return NONCE_NEW
            # Refused: only now is it worth asking why.
            active = conn.execute(select(_ACTIVE_KEY), {"kid": kid, "now": now}).scalar()
        return NONCE_REPLAYED if active else KEY_RETIRED

    def _sweep_due(self, now: datetime) -> bool:
        with self._sweeping:
            if self._swept_at is not None and now - self._swept_at < self.sweep_every:
                return False
            self._swept_at = now
            return True
