"""Encryption at rest for what the exchange itself stores (envelope encryption).

`encrypt(org_id, plaintext, context)` seals a value under the organisation's data key and
returns an envelope (a JSON-able dict) to store in place of the value;
`decrypt(envelope, context)` gives it back, with the same context (the table, column, row
and organisation the value lives in), or raises EnvelopeInvalid.

Each organisation has a data key (AES-256), stored in the exchange database only wrapped by
a master key (ports.MasterKeys: a key file, or a KMS). An organisation that has none gets
one on its first encryption. When the master keys rotate, data keys are re-wrapped under
the new current master key lazily, when next used (or all at once by `rewrap_all`); the
data they protect is never re-encrypted, and the old master key keeps unwrapping until
then.

A data key's material never changes once made (ids are random and never reused), so each
process keeps the ones it has unwrapped: a decrypt then costs one AES-GCM operation.

Transactions: called with `keys=` (the data keys inside the caller's transaction, e.g. the
one inserting the row being encrypted) everything happens there; without it, the service
opens short transactions of its own. Inside a write transaction on SQLite, pass `keys=`:
a second writer from the same process would wait for the first.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from onceonly.crypto import envelope as sealing
from onceonly.crypto.envelope import EnvelopeInvalid
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.keys import DataKeyRecord, DataKeys, DataKeyStore, MasterKeys

log = structlog.get_logger("onceonly.envelopes")

REWRAP_BATCH = 100


@dataclass
class _Known:
    org_id: str
    key: bytes
    master_key_id: str  # what it was wrapped by when last seen


@dataclass(frozen=True)
class RewrapResult:
    rewrapped: int
    failed: list[tuple[str, str]]  # (data key id, why)


def wrap_context(data_key_id: str, org_id: str) -> dict[str, str]:
    """What a data key's wrapping is bound to: a wrapped key copied to another organisation's
    row, or under another id, does not unwrap."""
    return {"purpose": "onceonly-data-key", "data_key": data_key_id, "org": org_id}


def new_data_key_id() -> str:
    return "dk-" + secrets.token_hex(16)


class Envelopes:
    def __init__(self, master: MasterKeys, store: DataKeyStore, clock: Clock) -> None:
        self.master = master
        self.store = store
        self.clock = clock
        self._known: dict[str, _Known] = {}
        self._lock = threading.Lock()

    # --- the service -----------------------------------------------------------------

    def encrypt(self, org_id: str, plaintext: bytes, context: Mapping[str, str], *,
                keys: DataKeys | None = None) -> dict[str, Any]:
        """An envelope of `plaintext` under `org_id`'s data key, bound to `context`."""
        _check_sealable(plaintext, context)
        if keys is not None:
            key_id, key = self._active_key(org_id, keys)
        else:
            with self.store(write=True) as own:
                key_id, key = self._active_key(org_id, own)
        return sealing.seal(key, key_id, org_id, plaintext, context)

    def encrypt_each(self, items: Sequence[tuple[str, bytes, Mapping[str, str]]], *,
                     keys: DataKeys) -> list[dict[str, Any]]:
        """`encrypt` of each (org_id, plaintext, context), the organisations' data keys read
        in one statement (a report seals a notification for each of up to a dozen)."""
        for _, plaintext, context in items:
            _check_sealable(plaintext, context)
        active = keys.active_of({org_id for org_id, _, _ in items})
        sealed = []
        for org_id, plaintext, context in items:
            key_id, key = self._active_key(org_id, keys, active)
            sealed.append(sealing.seal(key, key_id, org_id, plaintext, context))
        return sealed

    def decrypt(self, envelope: Any, context: Mapping[str, str], *,
                keys: DataKeys | None = None) -> bytes:
        """The plaintext of `envelope` if it was sealed here with this `context`; else
        EnvelopeInvalid (tampered, moved, unknown data key) or MasterKeyUnavailable."""
        sealing.check_context(context)
        key_id = sealing.data_key_id(envelope)
        known = self._known.get(key_id)
        if known is None:
            if keys is not None:
                known = self._unwrap(key_id, keys.get(key_id))
            else:
                with self.store() as own:
                    record = own.get(key_id)
                known = self._unwrap(key_id, record)
        self._rewrap_if_stale(key_id, known, keys)
        return sealing.open_sealed(known.key, known.org_id, envelope, context)

    def rewrap_all(self) -> RewrapResult:
        """Re-wrap every data key not wrapped by the current master key, now."""
        current = self.master.current_id()
        rewrapped, failed, after = 0, [], None
        while True:
            with self.store(write=True) as keys:
                batch = keys.wrapped_by_other_than(current, after, REWRAP_BATCH)
                for record in batch:
                    try:
                        key = self.master.unwrap(record.master_key_id, record.wrapped,
                                                 wrap_context(record.id, record.org_id))
                    except (EnvelopeInvalid, sealing.MasterKeyUnavailable) as problem:
                        failed.append((record.id, str(problem)))
                        continue
                    wrapped = self.master.wrap(current, key,
                                               wrap_context(record.id, record.org_id))
                    if keys.rewrap(record.id, record.master_key_id, current, wrapped):
                        rewrapped += 1
            if len(batch) < REWRAP_BATCH:
                return RewrapResult(rewrapped, failed)
            after = batch[-1].id

    def count_by_master(self) -> dict[str, int]:
        """How many data keys each master key wraps."""
        with self.store() as keys:
            return keys.count_by_master()

    # --- inside ----------------------------------------------------------------------

    def _active_key(self, org_id: str, keys: DataKeys,
                    active: dict[str, DataKeyRecord] | None = None) -> tuple[str, bytes]:
        """`active`: the organisations' active keys already read (a key made here joins it)."""
        record = keys.active(org_id) if active is None else active.get(org_id)
        if record is None:
            key_id, key = new_data_key_id(), sealing.new_key()
            master_id = self.master.current_id()
            record = DataKeyRecord(
                id=key_id, org_id=org_id, master_key_id=master_id,
                wrapped=self.master.wrap(master_id, key, wrap_context(key_id, org_id)),
                created_at=self.clock.now(), active=True)
            keys.add(record)
            if active is not None:
                active[org_id] = record
            # Safe to keep even if the transaction rolls back: the id is never reused,
            # so only envelopes from that same transaction could name it.
            self._remember(key_id, _Known(org_id, key, master_id))
            return key_id, key
        known = self._known.get(record.id) or self._unwrap(record.id, record)
        self._rewrap_if_stale(record.id, known, keys)
        return record.id, known.key

    def _unwrap(self, key_id: str, record: DataKeyRecord | None) -> _Known:
        if record is None:
            raise EnvelopeInvalid(f"the envelope names data key {key_id}, which this exchange "
                                  "does not hold")
        key = self.master.unwrap(record.master_key_id, record.wrapped,
                                 wrap_context(record.id, record.org_id))
        known = _Known(record.org_id, key, record.master_key_id)
        self._remember(key_id, known)
        return known

    def _remember(self, key_id: str, known: _Known) -> None:
        with self._lock:
            self._known[key_id] = known

    def _rewrap_if_stale(self, key_id: str, known: _Known, keys: DataKeys | None) -> None:
        """Lazy re-wrapping: a data key used after the master keys rotated is re-wrapped
        under the current one. Best effort: if it cannot be done now, the old master key
        still unwraps it, and the next use (or `rewrap_all`) tries again."""
        try:
            current = self.master.current_id()
            if known.master_key_id == current:
                return
            wrapped = self.master.wrap(current, known.key, wrap_context(key_id, known.org_id))
            if keys is not None:
                keys.rewrap(key_id, known.master_key_id, current, wrapped)
            else:
                with self.store(write=True) as own:
                    own.rewrap(key_id, known.master_key_id, current, wrapped)
        except Exception as problem:  # reading must not fail over this
            log.warning("data key not re-wrapped; will retry on next use", data_key=key_id,
                        error=str(problem))
            return
        # Re-wrapped by us or, if the conditional update found it moved, by someone else.
        self._remember(key_id, _Known(known.org_id, known.key, current))


def _check_sealable(plaintext: bytes, context: Mapping[str, str]) -> None:
    sealing.check_context(context)
    if not isinstance(plaintext, bytes | bytearray):
        raise TypeError(f"plaintext is bytes, not {type(plaintext).__name__}")
