"""Keys held in memory: signing keys (real Ed25519 signatures, one key an organisation), a
KMS of versioned master keys, and the data keys they wrap."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from onceonly.crypto import envelope as e
from onceonly.crypto.envelope import MasterKeyUnavailable
from onceonly.crypto.signing import SigningKey, jwks
from onceonly.crypto.standard_webhooks import SignedWebhook
from onceonly.services.ports.keys import DataKeyRecord


class FakeSigner:
    def __init__(self) -> None:
        self.keys: dict[str, SigningKey] = {}

    def key(self, org_id: str) -> SigningKey:
        return self.keys.setdefault(org_id, SigningKey.generate(org_id))

    def sign_compact_for(self, org_id: str, payload: bytes) -> str:
        return self.key(org_id).sign(payload)

    def sign_for(self, org_id: str, payload: bytes) -> tuple[str, str]:
        key = self.key(org_id)
        return key.sign_detached(payload), key.kid

    def sign_webhook_for(self, org_id: str, msg_id: str, at: datetime,
                         body: bytes) -> SignedWebhook:
        key, timestamp = self.key(org_id), int(at.timestamp())
        return SignedWebhook(msg_id, timestamp, key.sign_webhook(msg_id, timestamp, body),
                             key.sign_detached(body))

    def jwks(self) -> dict[str, Any]:
        return jwks(key.public_jwk() for key in self.keys.values())


class FakeMasterKeys:
    """A KMS in memory: versioned keys, one current."""

    def __init__(self) -> None:
        self.keys = {"mk-1": e.new_key()}
        self.current = "mk-1"

    def rotate(self) -> str:
        self.current = f"mk-{len(self.keys) + 1}"
        self.keys[self.current] = e.new_key()
        return self.current

    def current_id(self) -> str:
        return self.current

    def wrap(self, key_id: str, data_key: bytes, context: Mapping[str, str]) -> bytes:
        return e.wrap_key(self._key(key_id), data_key, context)

    def unwrap(self, key_id: str, wrapped: bytes, context: Mapping[str, str]) -> bytes:
        return e.unwrap_key(self._key(key_id), wrapped, context)

    def _key(self, key_id: str) -> bytes:
        if key_id not in self.keys:
            raise MasterKeyUnavailable(f"no master key {key_id}")
        return self.keys[key_id]


class FakeDataKeys:
    def __init__(self, rows: dict[str, DataKeyRecord], writable: bool) -> None:
        self.rows = rows
        self.writable = writable

    def active(self, org_id: str) -> DataKeyRecord | None:
        mine = [r for r in self.rows.values() if r.org_id == org_id and r.active]
        return max(mine, key=lambda r: r.created_at, default=None)

    def active_of(self, org_ids) -> dict[str, DataKeyRecord]:
        self.reads_of_active = getattr(self, "reads_of_active", 0) + 1
        return {org: record for org in org_ids if (record := self.active(org)) is not None}

    def get(self, key_id: str) -> DataKeyRecord | None:
        return self.rows.get(key_id)

    def add(self, record: DataKeyRecord) -> None:
        assert self.writable, "a write outside a write transaction"
        self.rows[record.id] = record

    def rewrap(self, key_id: str, old_master_id: str, new_master_id: str,
               wrapped: bytes) -> bool:
        assert self.writable, "a write outside a write transaction"
        row = self.rows[key_id]
        if row.master_key_id != old_master_id:
            return False
        self.rows[key_id] = replace(row, wrapped=wrapped, master_key_id=new_master_id)
        return True

    def wrapped_by_other_than(self, master_key_id: str, after: str | None,
                              limit: int) -> list[DataKeyRecord]:
        return sorted((r for r in self.rows.values() if r.master_key_id != master_key_id
                       and (after is None or r.id > after)), key=lambda r: r.id)[:limit]

    def count_by_master(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows.values():
            counts[row.master_key_id] = counts.get(row.master_key_id, 0) + 1
        return counts


class FakeStore:
    def __init__(self) -> None:
        self.rows: dict[str, DataKeyRecord] = {}
        self.broken = False  # writes fail, as a database that refuses them would

    @contextmanager
    def __call__(self, *, write: bool = False) -> Iterator[FakeDataKeys]:
        if write and self.broken:
            raise ConnectionError("the database refuses writes")
        yield FakeDataKeys(self.rows, write)
