"""Bulk extracts, by exception: the consumer asks, the provider's guardian approves, the
exchange builds the extract from the provider's store with only the agreed fields and keeps
it only as a JWE to the consumer's public key, which the consumer downloads once."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from onceonly.audit.entries import AuditEntry
from onceonly.crypto.canonical import canonical_json
from onceonly.crypto.jwe import RecipientKeyInvalid, encrypt_to, recipient_key
from onceonly.domain import bulk
from onceonly.domain.agreements import Agreement, LegalBasis
from onceonly.domain.bulk import BulkExtract
from onceonly.domain.errors import DomainError, forbidden, invalid, not_found
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.policy import Deny
from onceonly.domain.transforms import minimise
from onceonly.services.identity import Pseudonyms, name_subject, subject_named
from onceonly.services.ports.bulk import BulkUnitOfWork
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.connectors import Connectors
from onceonly.services.ports.consents import ConsentRegistry
from onceonly.services.ports.identity import ResolvedSubject
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import refuse_as, refusing


class BulkService:
    def __init__(self, uows: UnitOfWorkFactory[BulkUnitOfWork], connectors: Connectors,
                 consents: ConsentRegistry, clock: Clock,
                 pseudonyms: Pseudonyms | None = None) -> None:
        self.uows = uows
        self.connectors = connectors
        self.consents = consents
        self.clock = clock
        self.pseudonyms = pseudonyms  # for consumers named people by pairwise pseudonyms

    def request(self, officer: Principal, agreement_id: int, purpose: str,
                cohort: list[tuple[str, str]], recipient_jwk: dict[str, Any]) -> BulkExtract:
        now = self.clock.now()
        with refusing(self.uows, self.clock, "bulk.request", officer, purpose=purpose,
                      detail={"cohort_size": len(cohort)}) as refusal:
            try:
                recipient_key(recipient_jwk)
            except RecipientKeyInvalid as exc:
                raise invalid("recipient_key_invalid", str(exc)) from None
            with self.uows(write=True) as uow:
                source = uow.agreements.with_source(agreement_id)
                agreement = source.agreement if source else None
                refusal.of_agreement(agreement)
                if agreement is None or officer.org_id not in (agreement.provider_id,
                                                               agreement.consumer_id):
                    raise not_found("agreement_unknown", f"no agreement {agreement_id}")
                assert source is not None
                requested = bulk.request(officer, agreement, purpose, cohort, recipient_jwk,
                                         now, active=agreement.active_at(now))
                self._name_cohort(uow, agreement.consumer_id, cohort, source.subject_scheme)
                extract = uow.bulk.add(requested)
                uow.audit.record(_entry("request", "done", officer, agreement, extract), now)
                uow.commit()
        return extract

    def get(self, who: Principal, extract_id: int) -> BulkExtract:
        with self.uows() as uow:
            extract = uow.bulk.get(extract_id)
            agreement = uow.agreements.get(extract.agreement_id) if extract else None
        if extract is None or agreement is None or who.org_id not in (
                agreement.provider_id, agreement.consumer_id) or who.role not in (
                Role.OFFICER, Role.GUARDIAN):
            refuse_as(self.uows, self.clock, "bulk.read", who,
                      not_found("bulk_extract_unknown", f"no bulk extract {extract_id} for you"),
                      detail={"extract": extract_id})
        return extract

    def reject(self, guardian: Principal, extract_id: int, reason: str) -> BulkExtract:
        return self._decide(guardian, extract_id, reason, approve=False)

    def approve(self, guardian: Principal, extract_id: int, reason: str) -> BulkExtract:
        return self._decide(guardian, extract_id, reason, approve=True)

    def _decide(self, guardian: Principal, extract_id: int, reason: str,
                approve: bool) -> BulkExtract:
        now = self.clock.now()
        action = "approve" if approve else "reject"
        with refusing(self.uows, self.clock, f"bulk.{action}", guardian,
                      detail={"extract": extract_id}) as refusal:
            with self.uows() as uow:  # read, and decide, without the write lock
                extract = uow.bulk.get(extract_id)
                source = uow.agreements.with_source(extract.agreement_id) if extract else None
                agreement = source.agreement if source else None
                refusal.of_agreement(agreement)
                decided = (bulk.approve if approve else bulk.reject)(
                    extract, agreement, guardian, reason, now)
                subjects = self._name_cohort(uow, agreement.consumer_id, decided.cohort or (),
                                             source.subject_scheme) if approve else []
            assert extract is not None and agreement is not None and source is not None
            if approve:
                decided = self._build(decided, agreement, source.connector, subjects, now)
            with self.uows(write=True) as uow:
                uow.bulk.save(decided, was="requested")
                for subject in subjects:  # the consumer may ask by them from now on
                    if subject is not None and subject.pseudonym:
                        uow.identities.remember_pseudonym(agreement.consumer_id,
                                                          subject.pseudonym, subject.person_key)
                uow.audit.record(_entry(action, "done", guardian, agreement, decided), now)
                uow.commit()
        return decided

    def _name_cohort(self, uow: BulkUnitOfWork, consumer_id: str, cohort: Sequence[tuple[str, str]],
                     target_scheme: str) -> list[ResolvedSubject | None]:
        """Each person as the consumer names them, resolved as a query resolves them: an
        identifier the consumer may not use (another organisation's, or another consumer's
        pseudonym) refuses the whole extract; nobody known by it is left out."""
        subjects = []
        for number, (scheme, value) in enumerate(cohort):
            try:
                subject = name_subject(uow, self.pseudonyms, consumer_id, scheme, value,
                                       target_scheme)
            except DomainError as error:  # an unknown scheme: say which subject has it
                raise DomainError(error.kind, error.code,
                                  f"subjects[{number}]: {error.detail}") from None
            if isinstance(subject, Deny):
                raise forbidden(subject.reason.value, f"subjects[{number}]: {subject.detail}")
            subjects.append(subject)
        return subjects

    def _build(self, extract: BulkExtract, agreement: Agreement, connector: Any,
               subjects: list[ResolvedSubject | None], now: Any) -> BulkExtract:
        """Only the agreed fields, transformed as agreed, of the people the provider holds
        (and, under a consent basis, who consented); encrypted before it is kept."""
        store = self.connectors.for_dataset(agreement.dataset_id, connector)
        sources = sorted({grant.source for grant in agreement.grants})
        records = []
        for (scheme, value), subject in zip(extract.cohort or (), subjects, strict=True):
            if subject is None or subject.provider_value is None:
                continue
            if agreement.legal_basis is LegalBasis.CONSENT and not self._consented(
                    subject.person_key, agreement, now):
                continue
            record = store.fetch(subject.provider_value, sources)
            if record is None:
                continue
            # Named as a query would name them (by pseudonym, to a consumer that has them),
            # beside the identifier the consumer asked by, so it can tell who is who.
            records.append({"subject": subject_named(subject, scheme, value),
                            "asked_as": {"scheme": scheme, "value": value},
                            "data": minimise(agreement.grants, record, now.date())})
        plaintext = canonical_json({
            "extract_id": extract.id, "agreement_id": agreement.id,
            "created_at": now.isoformat(), "fields": [g.name for g in agreement.grants],
            "records": records})
        return bulk.built(extract, encrypt_to(extract.recipient_jwk, plaintext), len(records),
                          hashlib.sha256(plaintext).hexdigest())

    def _consented(self, person_key: str, agreement: Agreement, now: Any) -> bool:
        """Read afresh for each person: a withdrawal made meanwhile leaves them out."""
        with self.uows() as uow:
            return self.consents.has_consent(uow, person_key, agreement.consumer_id,
                                             agreement.purpose_code,
                                             [g.name for g in agreement.grants], now)

    def download(self, officer: Principal, extract_id: int) -> str:
        """The JWE, once; then only its record count and hash remain."""
        now = self.clock.now()
        with refusing(self.uows, self.clock, "bulk.download", officer,
                      detail={"extract": extract_id}) as refusal, \
                self.uows(write=True) as uow:
            extract = uow.bulk.get(extract_id)
            agreement = uow.agreements.get(extract.agreement_id) if extract else None
            refusal.of_agreement(agreement)
            done = bulk.download(extract, officer,
                                 agreement.consumer_id if agreement else None, now)
            assert extract is not None and extract.jwe is not None and agreement
            uow.bulk.save(done, was="approved")
            uow.audit.record(_entry("download", "done", officer, agreement, done), now)
            uow.commit()
        return extract.jwe


def _entry(action: str, outcome: str, actor: Principal, agreement: Agreement,
           extract: BulkExtract) -> AuditEntry:
    """The record count and the hash of the plaintext go to the audit log; the values never."""
    return AuditEntry(
        f"bulk.{action}", outcome, actor.id, actor.org_id, agreement_id=agreement.id,
        provider_id=agreement.provider_id, purpose=agreement.purpose_code,
        fields=tuple(g.name for g in agreement.grants), values_hash=extract.sha256,
        detail={"extract": extract.id, "cohort_size": extract.cohort_size,
                "records": extract.records, "status": extract.status})
