"""The ports the use cases need. Adapters implement them; tests pass real ones or fakes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from onceonly.audit.entries import AuditEntry, AuditRecord
from onceonly.audit.heads import SignedTreeHead
from onceonly.audit.merkle import Node
from onceonly.domain.agreements import Agreement
from onceonly.domain.anomaly import Activity, Alert, Rule, Rules
from onceonly.domain.bulk import BulkExtract
from onceonly.domain.catalogue import Dataset
from onceonly.domain.kill_switch import KillSwitch
from onceonly.domain.organisations import Organisation, Principal
from onceonly.domain.policy import Reason


class Clock(Protocol):
    def now(self) -> datetime: ...


class AuditLog(Protocol):
    def record(self, entry: AuditEntry, at: datetime) -> int:
        """Append an entry within the current unit of work; return its index in the log.
        Indexes are dense and in commit order: appends queue until the unit of work ends."""
        ...
    def size(self) -> int: ...
    def entries(self, start: int, stop: int) -> list[AuditRecord]:
        """Entries [start, stop) by index."""
        ...
    def entry(self, index: int) -> AuditRecord | None: ...
    def search(self, search: AuditSearch) -> list[AuditRecord]:
        """Newest first."""
        ...


@dataclass(frozen=True, slots=True)
class AuditSearch:
    """Which entries to list, newest first; None means any."""

    limit: int
    before: int | None = None  # only entries with a smaller index (the next page)
    provider_id: str | None = None
    org_id: str | None = None
    actor_id: str | None = None
    person_key: str | None = None
    actions: tuple[str, ...] = ()
    revealed_at: datetime | None = None  # leave out entries still hidden at this time


class AuditTree(Protocol):
    """The Merkle tree's stored perfect-subtree hashes and its signed heads."""

    def lock(self) -> None:
        """Hold the right to integrate until the unit of work ends (one integrator at a time)."""
        ...
    def read(self, nodes: Sequence[Node]) -> dict[Node, bytes]: ...
    def leaves(self, start: int, stop: int) -> dict[int, bytes]:
        """The stored leaf hashes of entries [start, stop), by index."""
        ...
    def add_nodes(self, nodes: Mapping[Node, bytes]) -> None: ...
    def add_head(self, head: SignedTreeHead) -> None: ...
    def latest_head(self) -> SignedTreeHead | None: ...
    def heads(self) -> list[SignedTreeHead]:
        """Every signed head, smallest first."""
        ...


class Secrets(Protocol):
    def get(self, name: str) -> bytes:
        """A secret the exchange generated for itself (e.g. the officer-pseudonym key)."""
        ...


@dataclass(frozen=True, slots=True)
class AgreementSource:
    """An agreement with what a query needs of its dataset: the identifier scheme the
    provider knows people by, and the connector config of the provider's store."""

    agreement: Agreement
    subject_scheme: str
    connector: Mapping[str, Any]


class AgreementRepository(Protocol):
    def get(self, agreement_id: int, *, with_history: bool = False) -> Agreement | None: ...
    def with_source(self, agreement_id: int) -> AgreementSource | None:
        """The agreement (without history) and its dataset's subject scheme and connector."""
        ...
    def add(self, agreement: Agreement) -> int: ...
    def save(self, agreement: Agreement) -> None:
        """Persist a transition; raises a conflict if someone else moved it first."""
        ...
    def list_for(self, org_id: str | None) -> list[Agreement]: ...


class CatalogueRepository(Protocol):
    def organisation(self, org_id: str) -> Organisation | None: ...
    def organisations(self) -> list[Organisation]: ...
    def dataset(self, dataset_id: str) -> Dataset | None: ...
    def datasets(self) -> list[Dataset]: ...
    def connector_config(self, dataset_id: str) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class ResolvedSubject:
    person_key: str
    provider_value: str | None  # the provider's own identifier for the person, if it has one


class PersonIndex(Protocol):
    def known_scheme(self, scheme: str) -> bool: ...
    def person_key(self, scheme: str, value: str) -> str | None: ...
    def resolve(self, scheme: str, value: str, target_scheme: str) -> ResolvedSubject | None: ...


class Principals(Protocol):
    def by_token_digest(self, digest: str, now: datetime) -> Principal | None:
        """The principal holding a live token with this digest, else None."""
        ...
    def token_state(self, digest: str, now: datetime) -> str:
        """'live', 'expired', 'revoked' or 'unknown': why a token was refused."""
        ...
    def add(self, principal: Principal) -> None: ...
    def add_token(self, digest: str, principal_id: str, issued_at: datetime,
                  expires_at: datetime) -> None: ...


class Usage(Protocol):
    def queries_on(self, agreement_id: int, day: date) -> int: ...
    def reserve(self, agreement: Agreement, day: date, person_key: str | None) -> Reason | None:
        """Atomically count one more release against the agreement's limits: queries a day,
        distinct people a day, uses in all. None if counted; else the limit reached, and the
        unit of work must not be committed."""
        ...


class KillSwitches(Protocol):
    def add(self, switch: KillSwitch) -> KillSwitch:
        """Store a new switch; return it with its id."""
        ...
    def get(self, switch_id: int) -> KillSwitch | None: ...
    def restored(self, switch: KillSwitch) -> None: ...
    def list_for(self, provider_id: str) -> list[KillSwitch]: ...


class ActivityLog(Protocol):
    """What the anomaly rules look at, and what they are set to."""

    def record(self, event: Activity, consumer_id: str) -> None: ...
    def lock(self) -> None: ...
    def watermark(self) -> int: ...
    def set_watermark(self, last_id: int) -> None: ...
    def new_since(self, last_id: int, limit: int) -> list[tuple[int, int | None]]: ...
    def recent_for(self, agreement_id: int, since: datetime) -> list[Activity]: ...
    def forget_before(self, cutoff: datetime) -> None: ...
    def rules_for(self, consumer_id: str) -> tuple[Rules, dict[str, Rules]]: ...
    def set_rule(self, consumer_id: str, officer_id: str | None, configured: Rule) -> None: ...


class Alerts(Protocol):
    def add(self, at: datetime, provider_id: str, consumer_id: str, agreement_id: int,
            officer_id: str | None, rule_kind: str, evidence: dict[str, Any]) -> int: ...
    def get(self, alert_id: int) -> Alert | None: ...
    def list_for(self, provider_id: str) -> list[Alert]: ...
    def resolve(self, alert_id: int, status: str, by: str, at: datetime, why: str) -> None: ...


class BulkExtracts(Protocol):
    def add(self, extract: BulkExtract) -> BulkExtract: ...
    def get(self, extract_id: int) -> BulkExtract | None: ...
    def save(self, extract: BulkExtract, was: str) -> None:
        """Write the new state if the extract is still in state `was`."""
        ...


class UnitOfWork(Protocol):
    agreements: AgreementRepository
    catalogue: CatalogueRepository
    people: PersonIndex
    principals: Principals
    usage: Usage
    kill_switches: KillSwitches
    activity: ActivityLog
    alerts: Alerts
    bulk: BulkExtracts
    audit: AuditLog
    tree: AuditTree

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, write: bool = False, transaction: bool = True) -> UnitOfWork:
        """`transaction=False`: each read stands alone, for data that never changes once
        written (the Merkle tree), sparing a server database the round trips of a
        transaction."""
        ...


class ProviderConnector(Protocol):
    """Reads one person's fields from a provider's own store (SQL now; HTTP admits the same)."""

    def fetch(self, local_id: str, fields: Sequence[str]) -> Mapping[str, Any] | None: ...


class Connectors(Protocol):
    def for_dataset(self, dataset_id: str, config: Mapping[str, Any]) -> ProviderConnector: ...


class ConsentRegistry(Protocol):
    def has_consent(
        self, person_key: str, consumer_id: str, purpose: str, fields: Sequence[str], now: datetime
    ) -> bool: ...


class Signer(Protocol):
    def sign_for(self, org_id: str, payload: bytes) -> tuple[str, str]:
        """A detached JWS over `payload` with the organisation's active key, and its kid."""
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



class VerificationKeys(Protocol):
    """Public signing keys of the organisations, for signed requests (RFC 9421)."""

    def public_key(self, kid: str) -> tuple[str, dict[str, Any]] | None:
        """The organisation holding the signing key `kid` and its public JWK, or None."""
        ...


class NonceStore(Protocol):
    """Nonces of signed requests already seen, shared by every server process."""

    def remember(self, kid: str, nonce: str, expires_at: datetime, now: datetime) -> bool:
        """Record (kid, nonce) until `expires_at`, atomically; False if it is already there
        (unexpired). Two processes racing with the same pair: exactly one gets True."""
        ...
