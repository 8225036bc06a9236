"""Organisations' signing keys, kept in the exchange database.

The private halves are encrypted at rest: `signing_keys.private_jwk` holds an envelope
(services/envelopes.py) of the private JWK under the organisation's data key, bound to the
row (table, column, kid, organisation), so a private key copied into another row does not
decrypt. Rows written before encryption at rest (a plaintext JWK) are still read, and are
encrypted when first read or by `onceonly keys rotate`.

Keys never change once made (a new key is a new kid), so each process may keep the ones it
has loaded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, insert, or_, select, update

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.data_keys import SqlDataKeys, write_transaction
from onceonly.adapters.db.org_keys import org_key_from_row
from onceonly.crypto.canonical import canonical_json
from onceonly.crypto.envelope import EnvelopeInvalid, MasterKeyUnavailable, is_envelope
from onceonly.crypto.signing import SigningKey, jwks, webhook_public_key
from onceonly.crypto.standard_webhooks import SignedWebhook
from onceonly.services.envelopes import Envelopes

log = structlog.get_logger("onceonly.keystore")
_KEYS = t.signing_keys
_OWN = t.organisation_keys


def private_key_context(org_id: str, kid: str) -> dict[str, str]:
    """Where a private key lives: what its envelope is bound to."""
    return {"table": "signing_keys", "column": "private_jwk", "row": kid, "org": org_id}


class SqlKeyStore:
    def __init__(self, engine: Engine, envelopes: Envelopes) -> None:
        self.engine = engine
        self.envelopes = envelopes
        self._active: dict[str, SigningKey] = {}
        self._lock = threading.Lock()

    def sign_for(self, org_id: str, payload: bytes) -> tuple[str, str]:
        """A detached JWS over `payload` with the organisation's active key, and its kid."""
        key = self._active.get(org_id) or self._load(org_id)
        return key.sign_detached(payload), key.kid

    def sign_compact_for(self, org_id: str, payload: bytes) -> str:
        """A compact JWS carrying `payload`, with the organisation's active key."""
        return (self._active.get(org_id) or self._load(org_id)).sign(payload)

    def request_key_for(self, org_id: str) -> tuple[Ed25519PrivateKey, str]:
        """The organisation's active private key and its kid, to sign HTTP requests with
        (RFC 9421: the exchange's requests to providers' APIs)."""
        key = self._active.get(org_id) or self._load(org_id)
        return key.key.private_key, key.kid
    def unready(self) -> str | None:
        """Why a new key cannot be sealed now: the master key cannot be had."""
        try:
            self.envelopes.master.current_id()
        except MasterKeyUnavailable as problem:
            return str(problem)
        return None

    def add_hosted_key(self, org_id: str, now: datetime) -> str:
        """A new active signing key held for `org_id` (its private half sealed); its kid."""
        with self.engine.begin() as conn:
            return add_signing_key(conn, org_id, now, envelopes=self.envelopes).kid

    def sign_webhook_for(self, org_id: str, msg_id: str, at: datetime,
                         body: bytes) -> SignedWebhook:
        """A webhook's signatures by the organisation's active key: Standard Webhooks `v1a`
        over id, time and body, and the deprecated detached JWS of the body."""
        key = self._active.get(org_id) or self._load(org_id)
        timestamp = int(at.timestamp())
        return SignedWebhook(msg_id, timestamp, key.sign_webhook(msg_id, timestamp, body),
                             key.sign_detached(body))

    def _load(self, org_id: str) -> SigningKey:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_KEYS.c.kid, _KEYS.c.private_jwk)
                .where(_KEYS.c.org_id == org_id, _KEYS.c.active.is_(True))
                .order_by(_KEYS.c.created_at.desc())
            ).first()
        if row is None:
            raise LookupError(f"{org_id} has no active signing key")
        key = open_private_key(self.envelopes, org_id, row.kid, row.private_jwk)
        if not is_envelope(row.private_jwk):
            self._seal_lazily(org_id, row.kid)
        with self._lock:
            self._active[org_id] = key
        return key

    def _seal_lazily(self, org_id: str, kid: str) -> None:
        """Encrypt a private key found in plaintext. Best effort: signing goes on if it
        cannot be done now, and the next load (or `keys rotate`) tries again."""
        try:
            with write_transaction(self.engine) as conn:
                seal_row(conn, self.envelopes, kid)
        except Exception as problem:  # signing must not fail over this
            log.warning("private key left in plaintext; will retry", kid=kid, org=org_id,
                        error=str(problem))

    def seal_plaintext(self) -> int:
        """Encrypt every private key still stored in plaintext; return how many there were."""
        with write_transaction(self.engine) as conn:
            kids = [row.kid for row in conn.execute(select(_KEYS.c.kid, _KEYS.c.private_jwk))
                    if not is_envelope(row.private_jwk)]
            return sum(seal_row(conn, self.envelopes, kid) for kid in kids)

    def plaintext_count(self) -> int:
        with self.engine.connect() as conn:
            return sum(not is_envelope(row.private_jwk)
                       for row in conn.execute(select(_KEYS.c.private_jwk)))

    def jwks(self, org_id: str | None = None, now: datetime | None = None) -> dict[str, Any]:
        """Every organisation's public keys, or (`org_id`) one organisation's: those the
        exchange holds for it (`hosted`), then those it registered itself, while they verify
        (at `now`, by default the time of asking)."""
        query = select(_KEYS.c.public_jwk).order_by(_KEYS.c.org_id, _KEYS.c.created_at)
        registered = (select(_OWN).order_by(_OWN.c.org_id, _OWN.c.registered_at, _OWN.c.kid)
                      .where(or_(_OWN.c.not_after.is_(None),
                                 _OWN.c.not_after > (now or datetime.now(UTC)))))
        if org_id is not None:
            query = query.where(_KEYS.c.org_id == org_id)
            registered = registered.where(_OWN.c.org_id == org_id)
        with self.engine.connect() as conn:
            document = jwks({**row.public_jwk, "hosted": True}
                            for row in conn.execute(query))
            document["keys"] += [org_key_from_row(row).published()
                                 for row in conn.execute(registered)]
        return document

    def webhook_keys(self, org_id: str) -> list[dict[str, str]]:
        """The organisation's active keys in Standard Webhooks form (`whpk_...`): those its
        webhooks are signed with now."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(_KEYS.c.kid, _KEYS.c.public_jwk)
                                .where(_KEYS.c.org_id == org_id, _KEYS.c.active.is_(True))
                                .order_by(_KEYS.c.created_at.desc()))
            return [{"kid": row.kid, "key": webhook_public_key(row.public_jwk)}
                    for row in rows]


def add_signing_key(conn: Connection, org_id: str, now: datetime, *,
                    envelopes: Envelopes) -> SigningKey:
    """A new active signing key for `org_id`, its private half stored encrypted."""
    key = SigningKey.generate(org_id)
    conn.execute(
        insert(_KEYS).values(
            kid=key.kid,
            org_id=org_id,
            private_jwk=seal_private_key(conn, envelopes, org_id, key.kid, key.private_jwk()),
            public_jwk=key.public_jwk(),
            created_at=now,
            active=True,
        )
    )
    return key


def seal_private_key(conn: Connection, envelopes: Envelopes, org_id: str, kid: str,
                     jwk: Mapping[str, Any]) -> dict[str, Any]:
    return envelopes.encrypt(org_id, canonical_json(dict(jwk)),
                             private_key_context(org_id, kid), keys=SqlDataKeys(conn))


def open_private_key(envelopes: Envelopes, org_id: str, kid: str, stored: Any, *,
                     conn: Connection | None = None) -> SigningKey:
    """The signing key stored in a row (an envelope, or a JWK from before encryption);
    EnvelopeInvalid if it does not decrypt for this row or is not the key the row names."""
    if is_envelope(stored):
        keys = SqlDataKeys(conn) if conn is not None else None
        try:
            jwk = json.loads(envelopes.decrypt(stored, private_key_context(org_id, kid),
                                               keys=keys))
        except EnvelopeInvalid as problem:
            raise EnvelopeInvalid(f"the private key {kid} of {org_id} cannot be used: "
                                  f"{problem}") from None
    elif isinstance(stored, Mapping) and stored.get("kty") == "OKP" and "d" in stored:
        jwk = dict(stored)  # from before encryption at rest
    else:
        raise EnvelopeInvalid(f"the private key {kid} of {org_id} is neither an envelope "
                              "nor a private JWK")
    key = SigningKey.from_private_jwk(org_id, jwk)
    if key.kid != kid:
        raise EnvelopeInvalid(f"the private key stored for {kid} of {org_id} is another key")
    return key


def seal_row(conn: Connection, envelopes: Envelopes, kid: str) -> bool:
    """Encrypt the private key of row `kid` if it is still plaintext (re-read in this
    transaction, so two processes doing it at once both leave a valid envelope)."""
    row = conn.execute(select(_KEYS.c.org_id, _KEYS.c.private_jwk)
                       .where(_KEYS.c.kid == kid)).first()
    if row is None or is_envelope(row.private_jwk):
        return False
    key = open_private_key(envelopes, row.org_id, kid, row.private_jwk)
    conn.execute(update(_KEYS).where(_KEYS.c.kid == kid).values(
        private_jwk=seal_private_key(conn, envelopes, row.org_id, kid, key.private_jwk())))
    return True
