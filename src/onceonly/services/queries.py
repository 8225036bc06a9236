"""The governed per-person query: decide, read only what is allowed, minimise, audit."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any, NoReturn, cast

from onceonly.audit.entries import AuditEntry
from onceonly.crypto.canonical import canonical_json, sha256_hex
from onceonly.domain.accuracy import released_sources
from onceonly.domain.agreements import Agreement, LegalBasis
from onceonly.domain.anomaly import Activity, identifier_number
from onceonly.domain.consent import fields_covered
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.limits import refusal_detail
from onceonly.domain.organisations import Principal, TokenHolder, training_lapsed
from onceonly.domain.policy import (
    Circumstances,
    Decision,
    Deny,
    Permit,
    QueryRequest,
    Reason,
    check_fields,
    decide,
)
from onceonly.domain.transforms import minimise
from onceonly.services.auth import AuthRefusal, identify
from onceonly.services.identity import Pseudonyms, name_subject, subject_named
from onceonly.services.ports.agreements import AgreementSource
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.connectors import (
    AsyncReading,
    Connectors,
    ProviderConnector,
    ProviderFailure,
)
from onceonly.services.ports.identity import ConsentQuestion, ResolvedSubject
from onceonly.services.ports.keys import Signer
from onceonly.services.ports.queries import QueriesUnitOfWork
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import refuse_in
from onceonly.services.standing import StandingCache

# How each refusal reaches the caller: who may not ask is forbidden, what does not exist
# is not found, a spent limit is limited.
_KIND = {
    Reason.AGREEMENT_UNKNOWN: ErrorKind.NOT_FOUND,
    Reason.SUBJECT_UNKNOWN: ErrorKind.NOT_FOUND,
    Reason.RECORD_UNKNOWN: ErrorKind.NOT_FOUND,
    Reason.PROVIDER_UNAVAILABLE: ErrorKind.UPSTREAM,
    Reason.PROVIDER_RESPONSE_INVALID: ErrorKind.UPSTREAM,
    Reason.PROVIDER_TIMEOUT: ErrorKind.UPSTREAM_TIMEOUT,
    Reason.QUOTA_EXCEEDED: ErrorKind.LIMITED,
    Reason.PERSON_LIMIT_REACHED: ErrorKind.LIMITED,
    Reason.USES_EXHAUSTED: ErrorKind.LIMITED,
}


# Who is asking, given the query's unit of work, the time and the standing version read.
Caller = Callable[[QueriesUnitOfWork, datetime, int | None], Principal | AuthRefusal]


def _identifying(token: str | None, seen: Callable[[Principal], None] | None,
                 kept: StandingCache) -> Caller:
    """The caller of a query by bearer token, read in the query's own unit of work unless
    kept under the standing version just read; `seen` is told who it is, once known."""
    def caller(uow: QueriesUnitOfWork, now: datetime, version: int | None
               ) -> Principal | AuthRefusal:
        def holder_of(digest: str) -> TokenHolder | None:
            found = kept.holder(version, digest)
            if found is None:
                found = uow.principals.holder(digest)
                if found is not None:
                    kept.keep_holder(version, digest, found)
            return found
        found = identify(uow, token, now, holder_of)
        if seen is not None and isinstance(found, Principal):
            seen(found)
        return found
    return caller


class QueryRefused(DomainError):
    def __init__(self, deny: Deny, retry_after: int | None = None) -> None:
        super().__init__(_KIND.get(deny.reason, ErrorKind.FORBIDDEN), deny.reason.value,
                         deny.detail)
        self.retry_after = retry_after  # seconds, when a provider's system failed for now


@dataclass(frozen=True, slots=True)
class _Pending:
    """A permitted query waiting for the provider's record."""

    officer: Principal
    cmd: QueryCommand
    agreement: Agreement
    subject: ResolvedSubject
    decision: Permit
    source: AgreementSource
    now: datetime
    connector: ProviderConnector
    local_id: str
    sources: list[str]


@dataclass(frozen=True, slots=True)
class QueryCommand:
    agreement_id: int
    scheme: str
    value: str
    fields: tuple[str, ...]
    purpose: str


@dataclass(frozen=True, slots=True)
class Release:
    release_id: str
    agreement_id: int
    provider_id: str
    subject: dict[str, str]
    data: dict[str, Any]
    released_at: datetime
    audit_seq: int
    sources: dict[str, str] = field(default_factory=dict)  # each field's source label
    # The body as signed (RFC 8785 canonical JSON), and the provider's detached JWS over it.
    payload: bytes = field(default=b"", repr=False)
    signature: str = ""

    def body(self) -> dict[str, Any]:
        return {
            "release_id": self.release_id,
            "agreement_id": self.agreement_id,
            "subject": self.subject,
            "data": self.data,
            "sources": self.sources,
            "released_at": self.released_at.isoformat().replace("+00:00", "Z"),
        }


class QueryService:
    def __init__(self, uows: UnitOfWorkFactory[QueriesUnitOfWork], connectors: Connectors,
                 clock: Clock, signer: Signer, pseudonyms: Pseudonyms | None = None) -> None:
        self.uows = uows
        self.connectors = connectors
        self.clock = clock
        self.signer = signer  # every release leaves signed by its provider
        self.pseudonyms = pseudonyms  # for consumers named people by pairwise pseudonyms
        # Callers and agreements as last read, used while the standing version stands.
        self.kept = StandingCache()

    def query(self, officer: Principal, cmd: QueryCommand) -> Release:
        """The query by a principal the caller has already authenticated."""
        return cast(Release, self._query(lambda _uow, _now, _version: officer, cmd))

    def query_with_token(self, token: str | None, cmd: QueryCommand,
                         seen: Callable[[Principal], None] | None = None) -> Release:
        """Authenticate the bearer token and decide in the same read transaction. The token's
        holder is read, or kept while the standing version has not moved (services/standing.py),
        and its end checked against the clock, so a revoked or expired token is refused on the
        very next request; a refused token is audited exactly as `authenticate` audits it.
        `seen` is told who the token's holder is, once known (for the access log)."""
        return cast(Release, self._query(_identifying(token, seen, self.kept), cmd))

    async def query_awaiting(self, token: str | None, cmd: QueryCommand,
                             run: Callable[[Callable[[], Any]], Awaitable[Any]],
                             seen: Callable[[Principal], None] | None = None) -> Release:
        """`query_with_token` for the API: each blocking step runs through `run` (the event
        loop or a worker thread, as the database needs), and a provider read that is network
        I/O (HTTP) is awaited on the loop in between, holding no thread while it waits. A
        store read in process (SQL) goes in the same `run` as the decision and the release."""
        step = await run(lambda: self._query(_identifying(token, seen, self.kept), cmd,
                                             defer_network=True))
        if isinstance(step, Release):
            return step
        reader = cast(AsyncReading, step.connector)
        try:
            record = await reader.fetch_async(step.local_id, step.sources)
        except ProviderFailure as failure:
            await run(partial(self._in_own_unit, partial(self._provider_failed, step=step,
                                                         failure=failure)))
        return cast(Release, await run(partial(self._in_own_unit, partial(
            self._released, step=step, record=record))))

    def _in_own_unit(self, work: Callable[[QueriesUnitOfWork], Any]) -> Any:
        with self.uows(transaction=False) as uow:
            return work(uow)

    def _query(self, caller: Caller, cmd: QueryCommand, defer_network: bool = False
               ) -> Release | _Pending:
        """One unit of work: the reads and the decision hold no write lock (each read sees
        the latest committed state: PostgreSQL's read committed gives no more inside a
        transaction, so a server database reads without one), then the release or the
        refusal writes in it. A provider read over the network (defer_network) ends it
        first: a pooled connection is not held while a provider answers."""
        now = self.clock.now()
        with self.uows(transaction=False) as uow:
            step = self._decided(uow, caller, cmd, now)
            if defer_network and hasattr(step.connector, "fetch_async"):
                return step
            # The provider's store, before the write lock is taken: it would queue every
            # other query's release behind this read.
            try:
                record = step.connector.fetch(step.local_id, step.sources)
            except ProviderFailure as failure:
                self._provider_failed(uow, step, failure)
            return self._released(uow, step, record)

    def _decided(self, uow: QueriesUnitOfWork, caller: Caller, cmd: QueryCommand,
                 now: datetime) -> _Pending:
        """The query permitted, and what its provider's store must be asked; or refused."""
        # The agreement and the standing version first: the caller, read after it, is kept
        # under a version no newer than what was read.
        source = self._agreement(uow, cmd.agreement_id, now)
        found = caller(uow, now, source.standing if source is not None else None)
        if isinstance(found, AuthRefusal):
            refuse_in(uow, self.clock, found.entry, found.error)
        agreement, subject, decision, source = self._read_phase(uow, found, cmd, now, source)
        if isinstance(decision, Deny):
            self._deny(uow, found, cmd, agreement, subject.person_key if subject else None,
                       decision)
        assert subject is not None and subject.provider_value is not None
        # Only the source fields the permitted grants need.
        return _Pending(found, cmd, agreement, subject, decision, source, now,
                        self.connectors.for_dataset(agreement.dataset_id, source.connector),
                        subject.provider_value, sorted({grant.source for grant in decision.grants}))

    def _provider_failed(self, uow: QueriesUnitOfWork, step: _Pending,
                         failure: ProviderFailure) -> NoReturn:
        """A provider's system that did not answer usefully: refused and audited like any
        other refusal, with its reason, and when to try again."""
        self._deny(uow, step.officer, step.cmd, step.agreement, step.subject.person_key,
                   Deny(Reason(failure.reason), failure.detail), failure.retry_after)

    def _released(self, uow: QueriesUnitOfWork, step: _Pending,
                  record: Mapping[str, Any] | None) -> Release:
        officer, cmd, agreement, subject, now = (step.officer, step.cmd, step.agreement,
                                                 step.subject, step.now)
        person_key = subject.person_key
        if record is None:
            self._deny(uow, officer, cmd, agreement, person_key,
                       Deny(Reason.RECORD_UNKNOWN, "the provider holds no record of this person"))
        data = minimise(step.decision.grants, record, now.date())

        release_id = str(uuid.uuid4())
        entry = AuditEntry(
            action="query.release",
            outcome="permit",
            actor_id=officer.id,
            org_id=officer.org_id,
            agreement_id=agreement.id,
            provider_id=agreement.provider_id,
            purpose=cmd.purpose,
            person_key=person_key,
            fields=cmd.fields,
            # The hash lets a consumer prove what it received; values stay out.
            values_hash=sha256_hex({"release_id": release_id, "data": data}),
            detail={"release_id": release_id, **_acting_as(officer)},
            hidden_until=agreement.hidden_until(now),
        )
        seq = self._record_release(uow, officer, cmd, agreement, subject, entry, now)
        return self._signed(Release(
            release_id=release_id,
            agreement_id=agreement.id,
            provider_id=agreement.provider_id,
            subject=subject_named(subject, cmd.scheme, cmd.value),
            data=data,
            released_at=now,
            audit_seq=seq,
            sources=released_sources(step.decision.grants, step.source.labels),
        ))

    def _record_release(self, uow: QueriesUnitOfWork, officer: Principal, cmd: QueryCommand,
                        agreement: Agreement, subject: ResolvedSubject, entry: AuditEntry,
                        now: datetime) -> int:
        """The limits, the anomaly note and the audit entry in one go (one statement on
        PostgreSQL): the entry's index; or, a limit reached, nothing kept and refused."""
        person_key, pseudonym = subject.person_key, subject.pseudonym
        released = uow.commit_release(
            agreement, now.date(), person_key,
            _activity(officer, cmd, agreement, person_key, now, False), officer.org_id,
            entry, now,
            # the consumer may ask by its pseudonym from now on
            also=(lambda: uow.identities.remember_pseudonym(officer.org_id, pseudonym,
                                                            person_key))
            if pseudonym else None)
        if isinstance(released, Reason):  # the refusal gives up the counts' changes
            self._deny(uow, officer, cmd, agreement, person_key,
                       Deny(released, refusal_detail(released, agreement)))
        return released

    def _signed(self, release: Release) -> Release:
        payload = canonical_json(release.body())
        signature, _kid = self.signer.sign_for(release.provider_id, payload)
        return replace(release, payload=payload, signature=signature)

    def _agreement(self, uow: QueriesUnitOfWork, agreement_id: int, now: datetime
                   ) -> AgreementSource | None:
        """The agreement with its source and the day's count. Kept and the standing version
        not moved since: only the count and the version are read (one short statement)."""
        day = now.date()
        if self.kept.has_agreement(agreement_id):
            usage = uow.agreements.usage(agreement_id, day)
            kept = self.kept.agreement(usage.standing, agreement_id)
            if kept is not None:
                return replace(kept, queries_today=usage.queries_today)
        source = uow.agreements.with_source(agreement_id, day)
        if source is not None:
            self.kept.keep_agreement(source.standing, source)
        return source

    def _training_lapsed(self, uow: QueriesUnitOfWork, officer: Principal,
                         version: int | None, now: datetime) -> bool:
        known, training = self.kept.training(version, officer.id)
        if not known:
            training = uow.staff.training(officer.id)
            self.kept.keep_training(version, officer.id, training)
        return training_lapsed(training, now.date())

    def _read_phase(self, uow: QueriesUnitOfWork, officer: Principal, cmd: QueryCommand,
                    now: datetime, source: AgreementSource | None
                    ) -> tuple[Agreement, ResolvedSubject | None, Decision, AgreementSource]:
        check_fields(cmd.fields)
        if officer.system_id is not None \
                and officer.system_id.rsplit("/", 1)[0] != officer.org_id:
            self._deny(uow, officer, cmd, None, None, Deny(
                Reason.SYSTEM_NOT_YOURS, f"{officer.system_id} is not a system of "
                f"{officer.org_id}; a service account acts as one of its own"))
        request = QueryRequest(officer.org_id, officer.role, cmd.purpose, cmd.fields)
        if source is None:
            self._deny(uow, officer, cmd, None, None,
                       Deny(Reason.AGREEMENT_UNKNOWN, f"no agreement {cmd.agreement_id}"))
        agreement = source.agreement
        # Under a consent basis the person's live consents are read with the person: no cache
        # and no round trip of their own, so a withdrawal refuses the very next query.
        question = (ConsentQuestion(agreement.consumer_id, agreement.purpose_code, now)
                    if agreement.legal_basis is LegalBasis.CONSENT else None)
        subject = name_subject(uow, self.pseudonyms, officer.org_id, cmd.scheme, cmd.value,
                               source.subject_scheme, question)
        if isinstance(subject, Deny):  # an identifier of another organisation
            self._deny(uow, officer, cmd, agreement, None, subject)
        consent = (question is not None and subject is not None
                   and fields_covered(subject.consented, cmd.fields))
        facts = Circumstances(
            now=now,
            subject_known=subject is not None and subject.provider_value is not None,
            consent_given=consent,
            queries_today=source.queries_today,
        )
        decision = decide(request, agreement, facts)
        if agreement.requires_training and not isinstance(decision, Deny) \
                and self._training_lapsed(uow, officer, source.standing, now):
            decision = Deny(Reason.TRAINING_LAPSED, "this agreement requires data-protection "
                            "training in date; ask your organisation's administrator")
        return agreement, subject, decision, source

    def _deny(self, uow: QueriesUnitOfWork, officer: Principal, cmd: QueryCommand,
              agreement: Agreement | None, person_key: str | None, deny: Deny,
              retry_after: int | None = None) -> NoReturn:
        provider_id = agreement.provider_id if agreement else None
        now = self.clock.now()
        entry = AuditEntry(
            action="query.decision",
            outcome="deny",
            actor_id=officer.id,
            org_id=officer.org_id,
            reason=deny.reason.value,
            agreement_id=cmd.agreement_id if provider_id else None,
            provider_id=provider_id,
            purpose=cmd.purpose,
            person_key=person_key,
            fields=cmd.fields,
            detail={"requested_agreement": str(cmd.agreement_id), **_acting_as(officer)},
            hidden_until=agreement.hidden_until(now) if agreement else None,
        )
        refused = _activity(officer, cmd, agreement, person_key, now, True)
        refuse_in(uow, self.clock, entry, QueryRefused(deny, retry_after),
                  also=lambda uow: uow.activity.record(refused, officer.org_id))


def _acting_as(caller: Principal) -> dict[str, str]:
    """A service account's queries are its system's: the audit entry names it."""
    return {"system": caller.system_id} if caller.system_id else {}


def _activity(officer: Principal, cmd: QueryCommand, agreement: Agreement | None,
              person_key: str | None, now: datetime, refused: bool) -> Activity:
    """The decision as the anomaly rules see it."""
    return Activity(now, officer.id, agreement.id if agreement else None, person_key,
                    identifier_number(cmd.value), refused)
