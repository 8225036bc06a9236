"""The ports the use cases need. Adapters implement them; tests pass real ones or fakes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from onceonly.audit.entries import AuditEntry, AuditRecord, UnreadableEntry
from onceonly.audit.heads import SignedTreeHead
from onceonly.audit.merkle import Node
from onceonly.crypto.standard_webhooks import SignedWebhook
from onceonly.domain.accuracy import Challenge
from onceonly.domain.agreements import Agreement
from onceonly.domain.anomaly import Activity, Alert, Rule, Rules
from onceonly.domain.bulk import BulkExtract
from onceonly.domain.catalogue import Dataset
from onceonly.domain.consent import Consent
from onceonly.domain.identity import LinkCandidate, Match, MatchRecord
from onceonly.domain.kill_switch import KillSwitch
from onceonly.domain.life_events import Delivery, Report
from onceonly.domain.organisations import Organisation, Principal
from onceonly.domain.policy import Reason
from onceonly.domain.sign_in import Count


class Clock(Protocol):
    def now(self) -> datetime: ...


class AuditLog(Protocol):
    def record(self, entry: AuditEntry, at: datetime) -> int:
        """Append an entry within the current unit of work; return its index in the log.
        Indexes are dense and in commit order: appends queue until the unit of work ends."""
        ...
    def size(self) -> int | None:
        """The next index to append at; None if the log's counter is gone (tampering)."""
        ...
    def entries(self, start: int, stop: int) -> list[AuditRecord | UnreadableEntry]:
        """Entries [start, stop) by index. A row that does not read as an entry (changed
        behind the log's back) is named as unreadable, in its place."""
        ...
    def entry(self, index: int) -> AuditRecord | UnreadableEntry | None: ...
    def search(self, search: AuditSearch) -> list[AuditRecord | UnreadableEntry]:
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
    def level(self, level: int, start: int, stop: int) -> dict[int, bytes]:
        """The stored nodes (level, start) to (level, stop - 1), by index; level 0 holds
        the leaf hashes."""
        ...
    def leaf_count(self) -> int:
        """One more than the highest index with a stored leaf hash."""
        ...
    def add_nodes(self, nodes: Mapping[Node, bytes]) -> None: ...
    def add_head(self, head: SignedTreeHead) -> None: ...
    def latest_head(self) -> SignedTreeHead | None: ...
    def heads(self) -> list[SignedTreeHead]:
        """Every signed head, smallest first."""
        ...


@dataclass(frozen=True, slots=True)
class OperatorAlert:
    """Something only the exchange's operator can mend (e.g. an audit entry that no longer
    reads, stopping integration at its index); cleared by the exchange once it is gone."""

    id: int
    at: datetime
    kind: str
    audit_index: int | None
    detail: str
    cleared_at: datetime | None


class OperatorAlerts(Protocol):
    def raise_once(self, kind: str, audit_index: int, detail: str,
                   at: datetime) -> OperatorAlert | None:
        """A new alert, or None if one of this kind about this entry is open already."""
        ...
    def clear_before(self, kind: str, audit_index: int, at: datetime) -> list[OperatorAlert]:
        """Clear the open alerts of this kind about entries before `audit_index`."""
        ...
    def listed(self, *, open_only: bool = False, limit: int = 100) -> list[OperatorAlert]:
        """Newest first."""
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
    labels: Mapping[str, str] = field(default_factory=dict)  # each field's source label
    queries_today: int = 0  # releases counted on the day asked for, if one was


class AgreementRepository(Protocol):
    def get(self, agreement_id: int, *, with_history: bool = False) -> Agreement | None: ...
    def with_source(self, agreement_id: int, day: date | None = None
                    ) -> AgreementSource | None:
        """The agreement (without history) and its dataset's subject scheme and connector;
        with `day`, the releases counted that day too, in one read."""
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
    # How a consumer with no identifier of its own is told who the person is (its pairwise
    # pseudonym for them); None: by the identifier it asked with.
    pseudonym: str | None = None
    consented: tuple[tuple[str, ...], ...] = ()  # the fields of each live consent asked about


class PersonIndex(Protocol):
    def known_scheme(self, scheme: str) -> bool: ...
    def person_key(self, scheme: str, value: str) -> str | None: ...
    def identifiers(self, person_key: str, schemes: Sequence[str]) -> dict[str, str]:
        """The person's identifiers in these schemes, one per scheme."""
        ...


class Principals(Protocol):
    def by_token_digest(self, digest: str, now: datetime) -> Principal | None:
        """The principal holding a live token with this digest, else None."""
        ...
    def token_state(self, digest: str, now: datetime) -> str:
        """'live', 'expired', 'revoked' or 'unknown': why a token was refused."""
        ...
    def get(self, principal_id: str) -> Principal | None: ...
    def add(self, principal: Principal) -> None: ...
    def add_token(self, digest: str, principal_id: str, issued_at: datetime,
                  expires_at: datetime) -> None: ...


class Releases(Protocol):
    """All of a release's writes at once, so that a server database pays one round trip
    for them rather than one a statement."""

    def release(self, agreement: Agreement, day: date, person_key: str | None,
                note: Activity, consumer_id: str, entry: AuditEntry, at: datetime
                ) -> Reason | int:
        """Count the release against the agreement's limits (domain.limits), note it for
        the anomaly rules (as ActivityLog.record) and append its audit entry (as
        AuditLog.record), atomically. The entry's index; or the limit reached (or
        OFFICER_SUSPENDED, if the note's officer is suspended from the entry's provider),
        having noted and appended nothing, and then the unit of work must not be
        committed."""
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
    def recent_for(self, agreement_id: int, since: datetime, *, after_id: int = 0,
                   up_to_id: int | None = None) -> list[Activity]:
        """The agreement's activity after `since`, oldest first; only notes with ids in
        (after_id, up_to_id] (what one pass of the detector read, or all before it)."""
        ...
    def forget_before(self, cutoff: datetime) -> None: ...
    def rules_for(self, consumer_id: str, provider_id: str | None = None
                  ) -> tuple[Rules, dict[str, Rules]]:
        """The consumer's rules and its officers' own, as they apply to the provider's
        agreements: the provider's thresholds win over the operator's."""
        ...
    def set_rule(self, consumer_id: str, officer_id: str | None, configured: Rule,
                 provider_id: str | None = None) -> None:
        """The operator's threshold (provider_id None), or the provider's own."""
        ...


class Alerts(Protocol):
    def add(self, at: datetime, provider_id: str, consumer_id: str, agreement_id: int,
            officer_id: str | None, rule_kind: str, evidence: dict[str, Any]) -> int: ...
    def get(self, alert_id: int) -> Alert | None: ...
    def list_for(self, provider_id: str) -> list[Alert]: ...
    def resolve(self, alert_id: int, status: str, by: str, at: datetime, why: str) -> None: ...
    def suspend_officer(self, alert_id: int, officer_id: str, provider_id: str,
                        at: datetime) -> None:
        """Keep the officer from the provider's data until the alert is resumed (a release
        to a suspended officer is refused by Releases.release)."""
        ...
    def reinstate_officer(self, alert_id: int, by: str, at: datetime) -> str | None:
        """Lift the suspension the alert made, if any: the officer it named."""
        ...
    def suspended_officers(self, provider_id: str) -> set[str]:
        """The officers kept from the provider's data now."""
        ...


class BulkExtracts(Protocol):
    def add(self, extract: BulkExtract) -> BulkExtract: ...
    def get(self, extract_id: int) -> BulkExtract | None: ...
    def save(self, extract: BulkExtract, was: str) -> None:
        """Write the new state if the extract is still in state `was`."""
        ...


@dataclass(frozen=True, slots=True)
class Decision:
    """One policy decision on a query, as the audit log holds it."""

    at: datetime
    agreement_id: int | None
    outcome: str  # permit or deny
    reason: str | None


@dataclass(frozen=True, slots=True)
class DeliveryTimes:
    """Tell-us-once deliveries created in a window: how many, by receiver and status; and
    the seconds from report to delivery of each one delivered, by receiver."""

    counts: dict[tuple[str, str], int]
    seconds: dict[str, list[float]]
    truncated: bool = False  # more were delivered than the limit: the latest are timed


class DecisionLog(Protocol):
    def decisions_since(self, since: datetime, limit: int) -> list[Decision]:
        """Query decisions at or after `since`, oldest first, at most `limit`."""
        ...
    def delivery_times_since(self, since: datetime, limit: int) -> DeliveryTimes:
        """Deliveries created at or after `since`: all counted, at most `limit` timed."""
        ...


@dataclass(frozen=True, slots=True)
class CitizenAccount:
    """A citizen's sign-in: bound to one person and their citizen principal."""

    login: str
    person_key: str
    principal_id: str
    password_hash: str  # argon2id, with its parameters
    totp: dict[str, Any] | None  # the TOTP secret, sealed (an envelope)
    totp_pending: dict[str, Any] | None  # one being enrolled, until a code confirms it
    totp_last_step: int | None
    created_at: datetime


class CitizenAccounts(Protocol):
    def get(self, login: str) -> CitizenAccount | None: ...
    def by_principal(self, principal_id: str) -> CitizenAccount | None: ...
    def by_person(self, person_key: str) -> CitizenAccount | None: ...
    def principal(self, login: str) -> Principal: ...
    def add(self, account: CitizenAccount) -> None: ...
    def update(self, login: str, **values: Any) -> None: ...
    def use_totp_step(self, login: str, step: int) -> bool:
        """Mark a TOTP time step used if no later or equal one was; False if one was."""
        ...


@dataclass(frozen=True, slots=True)
class SessionLookup:
    state: str  # live, unknown, expired, revoked, token_gone
    principal: Principal | None = None


class WebSessions(Protocol):
    def add(self, digest: str, principal_id: str, token_digest: str | None,
            created_at: datetime, expires_at: datetime) -> None: ...
    def find(self, digest: str, now: datetime) -> SessionLookup: ...
    def revoke(self, digest: str, at: datetime) -> bool: ...
    def forget_ended(self, before: datetime) -> None:
        """Drop sessions that expired before `before` (a replayed id is refused as unknown
        then, as it would be anyway)."""
        ...


class SignInThrottle(Protocol):
    """Failed sign-ins counted by key (domain/sign_in.py says what each key counts)."""

    def counts(self, keys: list[str]) -> dict[str, Count]: ...
    def fail(self, key: str, now: datetime, forget_before: datetime) -> int:
        """Count a failure atomically (starting again if the last one was before
        `forget_before`); the failures counted now."""
        ...
    def close(self, key: str, until: datetime) -> None: ...
    def clear(self, keys: list[str]) -> None: ...
    def forget(self, before: datetime) -> None:
        """Drop counters whose last failure was before `before`."""
        ...


@dataclass(frozen=True, slots=True)
class Claim:
    """A webhook delivery a worker has taken, until its lease ends."""

    delivery: Delivery
    url: str
    sealed: Any  # the notification CloudEvent, sealed
    token: str  # this claim's own: its outcome is written only while the row still carries it


class LifeEventStore(Protocol):
    """Tell us once: registers, subscriptions, reports and the delivery outbox."""

    def register(self, event_type: str) -> Dataset | None: ...
    def subscriptions(self, dataset_id: str) -> list[Agreement]: ...
    def schemes_of(self, org_ids: Sequence[str]) -> dict[str, list[str]]: ...
    def endpoints(self, org_ids: Sequence[str]) -> dict[str, str]: ...
    def set_endpoint(self, org_id: str, url: str | None, by: str, at: datetime) -> None: ...
    def report_by_event(self, source: str, event_id: str) -> Report | None: ...
    def add_report(self, report: Report, sealed_event: Any,
                   deliveries: Sequence[tuple[Delivery, Any]]) -> bool:
        """The report and all its deliveries (each with its sealed notification), in the
        caller's transaction: an accepted report is never without its outbox rows. False,
        writing nothing, if the source already sent an event with this id."""
        ...
    def report(self, report_id: str) -> Report | None: ...
    def reports_about(self, person_key: str) -> list[Report]: ...
    def deliveries_of(self, report_ids: Sequence[str]) -> list[Delivery]: ...
    def delivery(self, delivery_id: str) -> Delivery | None: ...
    def failed_for(self, org_id: str, limit: int) -> list[Delivery]:
        """The organisation's dead-lettered deliveries, newest first."""
        ...
    def any_due(self, now: datetime) -> bool:
        """Whether a webhook delivery is due: a read, cheap enough to poll often."""
        ...
    def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[Claim]:
        """Take due webhook deliveries (no two workers take the same one), counting the
        attempt, hiding them until `lease_until` and marking them with a new claim token."""
        ...
    def settle(self, outcomes: Sequence[tuple[str, Delivery]]) -> set[str]:
        """Write deliveries' outcomes (status, attempts, mode, next attempt, error), each
        given with its claim's token, only where that claim still stands: the delivery is
        pending and carries the token. A worker that stalled past its lease finds another's
        claim or outcome there and writes nothing. The ids of the deliveries written."""
        ...
    def requeue(self, delivery: Delivery) -> bool:
        """Put a dead-lettered delivery back as given; False, changing nothing, if it is no
        longer dead-lettered (another requeue came first)."""
        ...
    def inbox(self, org_id: str, limit: int) -> list[tuple[Delivery, Any]]: ...
    def acknowledge(self, delivery_id: str, org_id: str, at: datetime) -> bool:
        """Mark a pending inbox delivery of `org_id` delivered; False if it was not one."""
        ...


class Consents(Protocol):
    """Citizens' consents and their signed receipts."""

    def add(self, consent: Consent, receipt: str) -> None: ...
    def get(self, consent_id: str) -> Consent | None: ...
    def withdraw(self, consent: Consent, receipt: str) -> bool:
        """Record the withdrawal if the consent is not withdrawn yet; False if it was (two
        withdrawals racing: one wins)."""
        ...
    def of_person(self, person_key: str) -> list[tuple[Consent, str, str | None]]:
        """The person's consents, newest first, with their grant and withdrawal receipts."""
        ...
    def live_fields(self, person_key: str, purpose: str, consumer_id: str,
                    now: datetime) -> list[tuple[str, ...]]:
        """The fields of each of the person's consents live now for the purpose, to this
        consumer or any (the consent check's read: one indexed statement)."""
        ...


class Challenges(Protocol):
    """Accuracy challenges, corrections, and the default inbox of correction notices."""

    def add(self, challenge: Challenge) -> Challenge: ...
    def get(self, challenge_id: int) -> Challenge | None: ...
    def open_for(self, person_key: str, dataset_id: str, field: str) -> Challenge | None: ...
    def save(self, challenge: Challenge, was: Challenge) -> bool:
        """Write the new state if it is still as `was` (status and decision time); False if
        someone else moved it first."""
        ...
    def of_person(self, person_key: str) -> list[Challenge]: ...
    def for_provider(self, provider_id: str) -> list[Challenge]: ...
    def add_correction(self, challenge_id: int, by: str, at: datetime,
                       values_hash: str) -> int: ...
    def add_notice(self, correction_id: int, consumer_id: str, agreement_id: int,
                   person_key: str, field: str, release_ids: Sequence[str],
                   at: datetime) -> int: ...
    def notices_for(self, consumer_id: str, limit: int) -> list[dict[str, Any]]: ...


class CorrectionNotifier(Protocol):
    """Tells a consumer that a value it received about a person was corrected. Called in
    the unit of work that records the correction, so a notice is written (to an outbox or
    an inbox) in the same transaction: a correction is never recorded without them."""

    def notify(self, uow: UnitOfWork, *, consumer_id: str, agreement_id: int,
               person_key: str, field: str, correction_id: int,
               release_ids: Sequence[str] = ()) -> None: ...


class UnitOfWork(Protocol):
    agreements: AgreementRepository
    catalogue: CatalogueRepository
    people: PersonIndex
    principals: Principals
    releases: Releases
    kill_switches: KillSwitches
    activity: ActivityLog
    alerts: Alerts
    bulk: BulkExtracts
    identities: Identities
    consents: Consents
    challenges: Challenges
    accounts: CitizenAccounts
    sessions: WebSessions
    throttle: SignInThrottle
    audit: AuditLog
    tree: AuditTree
    operator_alerts: OperatorAlerts
    life_events: LifeEventStore
    data_keys: DataKeys  # to seal values in the unit of work's own transaction

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, write: bool = False, transaction: bool = True) -> UnitOfWork:
        """`transaction=False`: each read stands alone and sees the latest committed state,
        sparing a server database the round trips of a transaction. For data that never
        changes once written (the Merkle tree), and for reads that need no snapshot across
        them (a query's decision reads: a transaction under read committed gives none)."""
        ...


class ProviderConnector(Protocol):
    """Reads one person's fields from a provider's own store (SQL now; HTTP admits the same)."""

    def fetch(self, local_id: str, fields: Sequence[str]) -> Mapping[str, Any] | None: ...
    def write(self, local_id: str, field: str, value: Any) -> bool:
        """Correct one field of the provider's record; False if there is no such record."""
        ...


class Connectors(Protocol):
    def for_dataset(self, dataset_id: str, config: Mapping[str, Any]) -> ProviderConnector: ...


class ConsentRegistry(Protocol):
    def has_consent(
        self, uow: UnitOfWork, person_key: str, consumer_id: str, purpose: str,
        fields: Sequence[str], now: datetime,
    ) -> bool:
        """Read within the caller's transaction: a withdrawal committed by any process
        refuses the very next query."""
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
        """The organisation holding the active signing key `kid` and its public JWK, or
        None. A kid's key never changes, so the answer may be kept; that the key is still
        active is checked afresh as its nonce is recorded (NonceStore.remember)."""
        ...


NONCE_NEW, NONCE_REPLAYED, KEY_RETIRED = "new", "replayed", "key_retired"


class NonceStore(Protocol):
    """Nonces of signed requests already seen, shared by every server process."""

    def remember(self, kid: str, nonce: str, expires_at: datetime, now: datetime) -> str:
        """Record (kid, nonce) until `expires_at`, atomically, while `kid` is an active
        signing key: NONCE_NEW; NONCE_REPLAYED if the pair is there unexpired (two processes
        racing with the same pair: exactly one gets NONCE_NEW); KEY_RETIRED if the key no
        longer speaks for its organisation (nothing recorded)."""
        ...


# Identity across organisations (services/identity.py).

@dataclass(frozen=True, slots=True)
class ConsentQuestion:
    """The live consents to read with the person: for a purpose, given to this consumer or
    to any consumer, at a time."""

    consumer_id: str
    purpose: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Naming:
    """An organisation's identifier for a person, as the exchange reads it."""

    allowed: bool  # the organisation names people by this scheme (a pseudonym: its own)
    pairwise: bool  # the organisation is told who people are by pairwise pseudonyms
    person_key: str | None
    provider_value: str | None  # the target scheme's identifier for the person
    consented: tuple[tuple[str, ...], ...] = ()  # the fields of each live consent asked about


class Identities(Protocol):
    def name(self, org_id: str, scheme: str, value: str, target_scheme: str,
             consent: ConsentQuestion | None = None) -> Naming:
        """The person, and with `consent` their live consents, read together (one round
        trip): read afresh, so a withdrawal refuses the very next query."""
        ...
    def remember_pseudonym(self, consumer_id: str, pseudonym: str, person_key: str) -> None:
        """Keep a pseudonym handed to a consumer (again: nothing changes)."""
        ...
    def add_candidates(self, candidates: Sequence[LinkCandidate]) -> list[LinkCandidate]:
        """Store new candidates (a pair proposed before is left as it is); return those
        stored, with their ids."""
        ...
    def candidate(self, candidate_id: int) -> LinkCandidate | None: ...
    def candidates(self, org_id: str, status: str | None, limit: int) -> list[LinkCandidate]: ...
    def decided(self, candidate: LinkCandidate) -> None:
        """Write a guardian's decision if the candidate is still pending."""
        ...
    def link(self, scheme: str, value: str, person_key: str) -> bool:
        """Add the link to the person index; False if the identifier is linked already."""
        ...


class MatchSources(Protocol):
    """The records matching compares, read from the providers' own stores when needed."""

    def unlinked(self, org_id: str) -> tuple[str, list[MatchRecord]]:
        """The organisation's identifier scheme and its records missing from the index."""
        ...
    def reference(self, scheme: str) -> list[MatchRecord]:
        """The people of the index without an identifier in `scheme` (record id: person
        key), with what the other providers' records say of them."""
        ...


class Matcher(Protocol):
    def match(self, records: Sequence[MatchRecord],
              reference: Sequence[MatchRecord]) -> list[Match]:
        """Scored pairs of a record and a reference person, above REVIEW_WEIGHT."""
        ...


class Pseudonyms(Protocol):
    def of(self, consumer_id: str, person_key: str) -> str: ...
