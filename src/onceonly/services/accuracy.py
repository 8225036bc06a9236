"""Accuracy: citizens challenge what a provider holds about them; the provider's guardian
corrects the provider's own record (through its connector) or rejects the challenge; each
consumer that received the old value within its retention period is told of the
correction through the CorrectionNotifier port."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from onceonly.audit.entries import SUBJECT_ACCESS, AuditEntry, AuditRecord
from onceonly.crypto.canonical import sha256_hex
from onceonly.domain import accuracy
from onceonly.domain.accuracy import Challenge, PastRelease, Recipient
from onceonly.domain.agreements import Agreement
from onceonly.domain.catalogue import Dataset, Sensitivity
from onceonly.domain.errors import conflict, not_found
from onceonly.domain.organisations import Principal, Role
from onceonly.services.auth import require_role
from onceonly.services.ports.accuracy import (
    AccuracyUnitOfWork,
    CorrectionNotifier,
    CorrectionsUnitOfWork,
)
from onceonly.services.ports.audit import AuditSearch
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.connectors import (
    Connectors,
    ConnectorUnusable,
    CorrectionsByNotice,
    ProviderConnector,
    ProviderFailure,
)
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import refusing

PAGE = 200
_UNWRITTEN = object()  # the store was not written (nothing to take back)
_BY_NOTICE = object()  # the store takes corrections as notifications: none was written
MAX_NOTICES = 200


@dataclass(frozen=True, slots=True)
class QueueItem:
    challenge: Challenge
    subject: dict[str, str] | None  # the provider's own identifier for the person


@dataclass(frozen=True, slots=True)
class HeldRecord:
    """What one dataset's provider holds about the citizen, special category left out:
    `values` by field (None: it holds no record of them), or `unread`, the reason code when
    the provider did not answer."""

    dataset_id: str
    values: dict[str, Any] | None
    unread: str | None = None


@dataclass(frozen=True, slots=True)
class Correction:
    challenge: Challenge
    correction_id: int
    notified: list[Recipient]


class AccuracyService:
    def __init__(self, uows: UnitOfWorkFactory[AccuracyUnitOfWork], connectors: Connectors,
                 clock: Clock,
                 notifier: CorrectionNotifier) -> None:
        self.uows = uows
        self.connectors = connectors
        self.clock = clock
        self.notifier = notifier

    # -- the citizen ------------------------------------------------------------------------

    def raise_challenge(self, citizen: Principal, dataset_id: str, field: str,
                        what_is_wrong: str, proposed_value: str | None) -> Challenge:
        require_role(self.uows, self.clock, citizen, {Role.CITIZEN}, "challenge.raise")
        now = self.clock.now()
        person_key = citizen.person_key or ""
        with refusing(self.uows, self.clock, "challenge.raise", citizen,
                      person_key=citizen.person_key,
                      detail={"dataset": dataset_id, "field": field}) as refusal:
            with self.uows() as uow:
                dataset = uow.catalogue.dataset(dataset_id)
                challenge = accuracy.raise_challenge(
                    person_key=person_key, dataset=dataset, field=field,
                    what_is_wrong=what_is_wrong, proposed_value=proposed_value, now=now)
                provider_id = challenge.provider_id
                refusal.note(provider_id=provider_id)
                store, local_id = self._store(uow, challenge)
            # A field of a record the provider does not hold is not one the citizen can see.
            if local_id is None or store.fetch(local_id, [field]) is None:
                raise not_found("record_unknown", f"{provider_id} holds no record of you",
                                org_id=provider_id)
            with self.uows(write=True) as uow:
                if uow.challenges.open_for(person_key, dataset_id, field) is not None:
                    raise conflict("challenge_open",
                                   f"you have an open challenge of {field} already")
                challenge = uow.challenges.add(challenge)
                uow.audit.record(_entry("challenge.raise", "done", citizen, challenge), now)
                uow.commit()
        return challenge

    def mine(self, citizen: Principal) -> list[Challenge]:
        require_role(self.uows, self.clock, citizen, {Role.CITIZEN}, "challenge.list")
        with self.uows() as uow:
            return uow.challenges.of_person(citizen.person_key or "")

    def challengeable_datasets(self) -> list[Dataset]:
        """The catalogue's datasets whose values a citizen may challenge: records held about
        people, not registers of life events (accuracy.raise_challenge refuses those)."""
        with self.uows() as uow:
            return [d for d in uow.catalogue.datasets() if d.event_type is None]

    def own_values(self, citizen: Principal) -> dict[str, HeldRecord]:
        """Subject access: what each challengeable dataset's provider holds about the citizen
        now, read through its connector as a governed query is. Special-category fields are
        never read (they are not challenged here). Each read is audited, and so shows in the
        citizen's access log; a provider that does not answer is noted, not raised."""
        require_role(self.uows, self.clock, citizen, {Role.CITIZEN}, SUBJECT_ACCESS)
        held = {}
        for dataset in self.challengeable_datasets():
            fields = [f.name for f in dataset.fields if f.sensitivity is not Sensitivity.SPECIAL]
            if fields:
                held[dataset.id] = self._read_own(citizen, dataset, fields)
        return held

    def _read_own(self, citizen: Principal, dataset: Dataset, fields: list[str]) -> HeldRecord:
        with self.uows() as uow:
            local_id = uow.people.identifiers(citizen.person_key or "", [
                dataset.subject_scheme]).get(dataset.subject_scheme)
            config = uow.catalogue.connector_config(dataset.id)
        if not local_id:  # no identifier of theirs for this person: nothing is read
            return HeldRecord(dataset.id, None, None)
        unread = None
        try:
            record = self.connectors.for_dataset(dataset.id, config).fetch(local_id, fields)
        except ProviderFailure as failure:
            record, unread = None, failure.reason
        except ConnectorUnusable:
            record, unread = None, "provider_unavailable"
        entry = AuditEntry(SUBJECT_ACCESS, "deny" if unread else "permit", citizen.id,
                           citizen.org_id, provider_id=dataset.provider_id,
                           person_key=citizen.person_key, fields=tuple(fields), reason=unread,
                           detail={"dataset": dataset.id})
        with self.uows(write=True) as uow:
            uow.audit.record(entry, self.clock.now())
            uow.commit()
        values = None if record is None else {f: record.get(f) for f in fields}
        return HeldRecord(dataset.id, values, unread)

    # -- the provider's guardian ------------------------------------------------------------

    def queue(self, guardian: Principal) -> list[QueueItem]:
        """The challenges about the guardian's organisation's data, newest first, each with
        the organisation's own identifier for the person (to find the record)."""
        require_role(self.uows, self.clock, guardian, {Role.GUARDIAN}, "challenge.queue")
        with self.uows() as uow:
            items = []
            for challenge in uow.challenges.for_provider(guardian.org_id):
                dataset = uow.catalogue.dataset(challenge.dataset_id)
                scheme = dataset.subject_scheme if dataset else ""
                value = uow.people.identifiers(challenge.person_key, [scheme]).get(scheme)
                items.append(QueueItem(challenge, {"scheme": scheme, "value": value}
                                       if value else None))
        return items

    def reject(self, guardian: Principal, challenge_id: int, reason: str) -> Challenge:
        require_role(self.uows, self.clock, guardian, {Role.GUARDIAN}, "challenge.reject")
        now = self.clock.now()
        with refusing(self.uows, self.clock, "challenge.reject", guardian,
                      detail={"challenge": challenge_id}), \
                self.uows(write=True) as uow:
            found = accuracy.guardian_of(uow.challenges.get(challenge_id), guardian)
            decided = accuracy.reject(found, guardian, reason, now)
            if not uow.challenges.save(decided, was=found):
                raise conflict("challenge_closed", "the challenge was decided meanwhile")
            uow.audit.record(_entry("challenge.reject", "done", guardian, decided), now)
            uow.commit()
        return decided

    def correct(self, guardian: Principal, challenge_id: int, value: Any,
                reason: str) -> Correction:
        """Write the corrected value to the provider's own store (or, where its system takes
        no writes, tell the provider by a notice queued with the correction), then record
        the correction and notify, in one transaction, everyone who received the old value
        and keeps it.
        One guardian at a time: the challenge is claimed before the store is written."""
        require_role(self.uows, self.clock, guardian, {Role.GUARDIAN}, "challenge.correct")
        now = self.clock.now()
        with refusing(self.uows, self.clock, "challenge.correct", guardian,
                      detail={"challenge": challenge_id}):
            with self.uows() as uow:
                found = accuracy.guardian_of(uow.challenges.get(challenge_id), guardian)
                dataset = uow.catalogue.dataset(found.dataset_id)
                assert dataset is not None and (spec := dataset.field(found.field))
                typed = accuracy.typed_value(spec, value)
                accuracy.corrected(found, reason, now)  # the reason is checked before any write
                store, local_id = self._store(uow, found)
            claimed = self._claim(guardian, found, now)
            old: Any = _UNWRITTEN
            try:
                old = self._write(store, local_id, found, typed)
                with self.uows(write=True) as uow:
                    done = accuracy.corrected(claimed, reason, now)
                    if not uow.challenges.save(done, was=claimed):
                        raise conflict("challenge_closed", "the challenge was decided meanwhile")
                    correction_id = uow.challenges.add_correction(
                        challenge_id, guardian.id, now,
                        sha256_hex({"challenge": challenge_id, "value": value}))
                    if old is _BY_NOTICE:  # in this transaction: recorded only if told
                        self._tell_provider(uow, done, dataset.subject_scheme, local_id,
                                            typed, correction_id)
                    notified = self._notify(uow, done, correction_id, guardian, now)
                    uow.audit.record(_entry("challenge.correct", "done", guardian, done,
                                            correction=correction_id,
                                            notified=len(notified),
                                            written="notice" if old is _BY_NOTICE
                                            else "store"), now)
                    uow.commit()
            except BaseException:
                # Neither half without the other: a correction not recorded (and notified)
                # is taken back from the store, and the challenge can be decided again.
                if old is not _UNWRITTEN and old is not _BY_NOTICE:
                    store.write(local_id or "", found.field, accuracy.stored_value(spec, old))
                with self.uows(write=True) as uow:
                    uow.challenges.save(found, was=claimed)
                    uow.commit()
                raise
        return Correction(done, correction_id, notified)

    def held_value(self, guardian: Principal, challenge_id: int) -> tuple[Challenge, Any]:
        """The challenge, and the value its provider's store holds now (None: no record),
        for the provider's guardian to set beside the proposed one. The read is audited:
        it is a read of the person's record."""
        require_role(self.uows, self.clock, guardian, {Role.GUARDIAN}, "challenge.read")
        now = self.clock.now()
        with refusing(self.uows, self.clock, "challenge.read", guardian,
                      detail={"challenge": challenge_id}):
            with self.uows() as uow:
                found = accuracy.guardian_of(uow.challenges.get(challenge_id), guardian)
                store, local_id = self._store(uow, found)
            record = store.fetch(local_id, [found.field]) if local_id else None
            with self.uows(write=True) as uow:
                uow.audit.record(_entry("challenge.read", "done", guardian, found), now)
                uow.commit()
        return found, None if record is None else record.get(found.field)

    def notices(self, principal: Principal) -> list[dict[str, Any]]:
        """The correction notices in the caller's organisation's inbox, newest first."""
        require_role(self.uows, self.clock, principal, {Role.OFFICER, Role.GUARDIAN},
                     "correction.notices")
        with self.uows() as uow:
            return uow.challenges.notices_for(principal.org_id, MAX_NOTICES)

    # -- steps ------------------------------------------------------------------------------

    def _store(self, uow: AccuracyUnitOfWork,
               challenge: Challenge) -> tuple[ProviderConnector, str | None]:
        """The provider's store and its own identifier for the person."""
        dataset = uow.catalogue.dataset(challenge.dataset_id)
        assert dataset is not None
        local_id = uow.people.identifiers(challenge.person_key, [dataset.subject_scheme]).get(
            dataset.subject_scheme)
        config = uow.catalogue.connector_config(dataset.id)
        return self.connectors.for_dataset(dataset.id, config), local_id

    def _claim(self, guardian: Principal, found: Challenge, now: datetime) -> Challenge:
        with self.uows(write=True) as uow:
            claimed = accuracy.claim(found, guardian, now)
            if not uow.challenges.save(claimed, was=found):
                raise conflict("challenge_closed", "another guardian is deciding it")
            uow.commit()
        return claimed

    @staticmethod
    def _write(store: ProviderConnector, local_id: str | None, challenge: Challenge,
               typed: Any) -> Any:
        """Write the corrected value; return the value it replaced."""
        record = store.fetch(local_id, [challenge.field]) if local_id else None
        if record is None:
            raise not_found("record_unknown", "the provider holds no record of the person")
        if record[challenge.field] == (typed.isoformat() if isinstance(typed, date) else typed):
            raise conflict("no_change", "the record already holds that value; reject the "
                                        "challenge instead, saying why")
        try:
            written = store.write(local_id or "", challenge.field, typed)
        except CorrectionsByNotice:
            return _BY_NOTICE
        except ConnectorUnusable as refused:
            raise conflict("provider_takes_no_corrections", str(refused)) from None
        if not written:
            raise not_found("record_unknown", "the provider holds no record of the person")
        return record[challenge.field]

    def _tell_provider(self, uow: AccuracyUnitOfWork, challenge: Challenge, scheme: str,
                       local_id: str | None, typed: Any, correction_id: int) -> None:
        assert local_id is not None  # _write found the record under it
        self.notifier.tell_provider(
            uow, provider_id=challenge.provider_id, subject=(scheme, local_id),
            person_key=challenge.person_key, dataset_id=challenge.dataset_id,
            field=challenge.field,
            value=typed.isoformat() if isinstance(typed, date) else typed,
            correction_id=correction_id)

    def _notify(self, uow: AccuracyUnitOfWork, challenge: Challenge, correction_id: int,
                guardian: Principal, now: datetime) -> list[Recipient]:
        releases = [_past(r) for r in _releases_of(uow, challenge)]
        agreements: dict[int, Agreement] = {}
        for release in releases:
            if release.agreement_id not in agreements:
                found = uow.agreements.get(release.agreement_id)
                if found is not None:
                    agreements[release.agreement_id] = found
        recipients = accuracy.recipients(releases, agreements, challenge.dataset_id,
                                         challenge.field, now)
        for recipient in recipients:
            for name in recipient.fields:
                self.notifier.notify(uow, consumer_id=recipient.consumer_id,
                                     agreement_id=recipient.agreement_id,
                                     person_key=challenge.person_key, field=name,
                                     correction_id=correction_id,
                                     release_ids=recipient.release_ids)
            uow.audit.record(AuditEntry(
                "correction.notify", "done", guardian.id, recipient.consumer_id,
                agreement_id=recipient.agreement_id, provider_id=challenge.provider_id,
                person_key=challenge.person_key, fields=recipient.fields,
                detail={"correction": correction_id, "challenge": challenge.id,
                        "releases": len(recipient.release_ids)},
                # A notice about an access still hidden from the citizen stays hidden too.
                hidden_until=recipient.hidden_until), now)
        return recipients


def _releases_of(uow: AccuracyUnitOfWork, challenge: Challenge) -> list[AuditRecord]:
    """Every release of the person's data by the provider, from the audit log."""
    found: list[AuditRecord] = []
    before = None
    while True:
        page = uow.audit.search(AuditSearch(
            limit=PAGE, before=before, provider_id=challenge.provider_id,
            person_key=challenge.person_key, actions=("query.release",)))
        # An entry that does not read cannot name a release (`audit verify` names it).
        found.extend(record for record in page if isinstance(record, AuditRecord))
        if len(page) < PAGE:
            return found
        before = page[-1].index


def _past(record: AuditRecord) -> PastRelease:
    entry = record.entry
    return PastRelease(record.at, entry.org_id or "", entry.agreement_id or 0,
                       tuple(entry.fields), entry.detail.get("release_id"),
                       entry.hidden_until)


def _entry(action: str, outcome: str, actor: Principal, challenge: Challenge,
           **detail: Any) -> AuditEntry:
    return AuditEntry(action, outcome, actor.id, actor.org_id,
                      provider_id=challenge.provider_id, person_key=challenge.person_key,
                      fields=(challenge.field,),
                      detail={"challenge": challenge.id, "dataset": challenge.dataset_id,
                              **detail})


class InboxCorrectionNotifier:
    """The default notifier: each notice goes to the consumer's inbox of correction notices
    in the exchange database, in the correction's own transaction (GET
    /v1/correction-notices). It writes through the unit of work alone, so it is a use case
    of its own, not an adapter; tell us once (CorrectionsByDelivery) can take its place."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def notify(self, uow: CorrectionsUnitOfWork, *, consumer_id: str, agreement_id: int,
               person_key: str, field: str, correction_id: int,
               release_ids: Sequence[str] = ()) -> None:
        uow.challenges.add_notice(correction_id, consumer_id, agreement_id, person_key, field,
                                  release_ids, self.clock.now())

    def tell_provider(self, uow: CorrectionsUnitOfWork, *, provider_id: str,
                      subject: tuple[str, str], person_key: str, dataset_id: str, field: str,
                      value: Any, correction_id: int) -> None:
        """The notices inbox is the consumers': a provider is told only through delivery."""
        raise conflict("provider_takes_no_corrections", f"{provider_id}'s system takes no "
                       "corrections from the exchange, and this exchange does not deliver "
                       "notifications to it")
