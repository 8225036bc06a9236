"""Keys: signing keys, master and data keys (envelope encryption), the exchange's own secrets."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from onceonly.crypto.standard_webhooks import SignedWebhook


class Secrets(Protocol):
    def get(self, name: str) -> bytes:
        """A secret the exchange generated for itself (e.g. the officer-pseudonym key)."""
        ...


class Signer(Protocol):
    def sign_for(self, org_id: str, payload: bytes) -> tuple[str, str]:
        """A detached JWS over `payload` with the organisation's active key, and its kid."""
        ...

    def sign_webhook_for(self, org_id: str, msg_id: str, at: datetime,
                         body: bytes) -> SignedWebhook:
        """A webhook's signatures (Standard Webhooks `v1a`, and the deprecated JWS) with the
        organisation's active key, for an attempt made `at`."""
        ...

    def jwks(self) -> dict[str, Any]: ...


class MasterKeys(Protocol):
    """The master keys that wrap (encrypt) the organisations' data keys: envelope encryption.

    The demo and tests use a key file (adapters/kms_file.py, `ONCEONLY_MASTER_KEY_FILE`).
    In production a KMS or HSM adapter implements these three methods and bootstrap() is
    given it (`bootstrap(master_keys=...)`): `wrap` is the KMS's Encrypt and `unwrap` its
    Decrypt, with `context` as the encryption context / additional authenticated data
    (e.g. AWS KMS `Encrypt(KeyId, Plaintext, EncryptionContext)`, Google Cloud KMS
    `encrypt(name, plaintext, additional_authenticated_data)`, a PKCS#11 AES-GCM key), and
    `current_id` the key (version) new data keys are wrapped with. The master key never
    leaves the KMS; rotation happens there (a new key version made primary), and
    `onceonly keys rotate --rewrap-now` re-wraps the data keys under it.

    Key ids are stable: an id names the same key for ever, so old ids stay unwrappable
    after a rotation. A process that meets an id it does not know must look again (another
    process may have rotated) before raising MasterKeyUnavailable; a wrapped key that was
    altered, or wrapped with another context, raises EnvelopeInvalid."""

    def current_id(self) -> str:
        """The master key new data keys are wrapped with (it changes when keys rotate)."""
        ...
    def wrap(self, key_id: str, data_key: bytes, context: Mapping[str, str]) -> bytes: ...
    def unwrap(self, key_id: str, wrapped: bytes, context: Mapping[str, str]) -> bytes: ...


@dataclass(frozen=True, slots=True)
class DataKeyRecord:
    """An organisation's data key as stored: only ever wrapped by a master key."""

    id: str
    org_id: str
    wrapped: bytes
    master_key_id: str
    created_at: datetime
    active: bool = True


class DataKeys(Protocol):
    """The data keys, inside one transaction."""

    def active(self, org_id: str) -> DataKeyRecord | None:
        """The organisation's newest active data key, if it has one."""
        ...
    def active_of(self, org_ids: Collection[str]) -> dict[str, DataKeyRecord]:
        """`active` for each organisation that has one, in one read."""
        ...
    def get(self, key_id: str) -> DataKeyRecord | None: ...
    def add(self, record: DataKeyRecord) -> None: ...
    def rewrap(self, key_id: str, old_master_id: str, new_master_id: str,
               wrapped: bytes) -> bool:
        """Replace the wrapping if it is still by `old_master_id`; False if someone else
        re-wrapped it first (or the change could not be made in this transaction)."""
        ...
    def wrapped_by_other_than(self, master_key_id: str, after: str | None,
                              limit: int) -> list[DataKeyRecord]:
        """Up to `limit` data keys not wrapped by `master_key_id`, by id, ids > `after`."""
        ...
    def count_by_master(self) -> dict[str, int]:
        """How many data keys each master key wraps."""
        ...


class DataKeyStore(Protocol):
    def __call__(self, *, write: bool = False) -> AbstractContextManager[DataKeys]:
        """A transaction of its own, committed when the block ends without an error."""
        ...


class HeldMasterKey(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def created_at(self) -> str: ...


class MasterKeyFile(MasterKeys, Protocol):
    """Master keys kept in a file the exchange rotates itself: a new key is added and made
    current, the old ones kept so that what they wrapped still unwraps."""

    path: Path

    def held(self) -> Sequence[HeldMasterKey]: ...
    def rotate(self) -> str:
        """Add a new master key, make it current, and return its id."""
        ...


class PrivateKeys(Protocol):
    """The organisations' signing keys, whose private halves are stored encrypted."""

    def sign_compact_for(self, org_id: str, payload: bytes) -> str: ...
    def seal_plaintext(self) -> int:
        """Encrypt every private key still stored in plaintext; how many there were."""
        ...
    def plaintext_count(self) -> int: ...
