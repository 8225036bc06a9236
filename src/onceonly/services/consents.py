"""Citizens' consents: grant and withdraw (each with a Kantara Consent Receipt v1.1 signed
by the exchange operator as a compact JWS), list, and preview exactly what an agreement
resting on consent would release about the citizen before they grant it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from joserfc.jws import extract_compact

from onceonly.audit.entries import AuditEntry
from onceonly.crypto.canonical import canonical_json, sha256_hex
from onceonly.domain import consent as consents
from onceonly.domain.accuracy import released_sources
from onceonly.domain.agreements import Agreement, AgreementState, LegalBasis
from onceonly.domain.catalogue import Sensitivity
from onceonly.domain.consent import Consent, Controller, Service
from onceonly.domain.errors import DomainError, conflict, not_found
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.transforms import minimise
from onceonly.services.auth import require_role
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.connectors import Connectors
from onceonly.services.ports.consents import ConsentsUnitOfWork
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import denial, refuse, refuse_as, refusing

DEFAULT_POLICY_URL = "https://onceonly.invalid/privacy-notice"


class ReceiptSigner(Protocol):
    def sign_compact_for(self, org_id: str, payload: bytes) -> str: ...
    def jwks(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Receipt:
    document: dict[str, Any]  # the Kantara Consent Receipt v1.1
    jws: str  # the document, signed (compact JWS, Ed25519) by the operator's key


@dataclass(frozen=True, slots=True)
class ConsentView:
    consent: Consent
    grant_receipt: str
    withdrawal_receipt: str | None


@dataclass(frozen=True, slots=True)
class Preview:
    agreement: Agreement
    data: dict[str, Any]
    sources: dict[str, str]


class ConsentService:
    def __init__(self, uows: UnitOfWorkFactory[ConsentsUnitOfWork], connectors: Connectors,
                 clock: Clock,
                 signer: ReceiptSigner, operator_org: str,
                 policy_url: str | None = None) -> None:
        self.uows = uows
        self.connectors = connectors
        self.clock = clock
        self.signer = signer
        self.operator_org = operator_org
        self.policy_url = policy_url or DEFAULT_POLICY_URL  # configured: bootstrap.py

    def grant(self, citizen: Principal, purpose: str, consumer_id: str | None,
              fields: list[str], expires_at: datetime) -> tuple[Consent, Receipt]:
        person_key = self._person(citizen, "consent.grant")
        now = self.clock.now()
        with refusing(self.uows, self.clock, "consent.grant", citizen, purpose=purpose[:64],
                      person_key=person_key,
                      detail={"consumer": consumer_id, "fields": len(fields)}):
            with self.uows() as uow:
                consent, covering = consents.grant(
                    consent_id=str(uuid.uuid4()), person_key=person_key, purpose=purpose,
                    consumer_id=consumer_id, fields=fields, expires_at=expires_at, now=now,
                    agreements=uow.agreements.list_for(None))
                parties = self._parties(uow, covering, consent)
            receipt = self._receipt(consent, "grant", now, *parties)
            with self.uows(write=True) as uow:
                uow.consents.add(consent, receipt.jws)
                uow.audit.record(_entry("consent.grant", "done", citizen, consent,
                                        receipt), now)
                uow.commit()
        return consent, receipt

    def withdraw(self, citizen: Principal, consent_id: str) -> tuple[Consent, Receipt]:
        person_key = self._person(citizen, "consent.withdraw")
        now = self.clock.now()
        found: Consent | None = None
        try:
            with self.uows() as uow:
                found = uow.consents.get(consent_id)
                withdrawn = consents.withdraw(found, person_key, now)
                parties = self._parties(
                    uow, consents.covering(withdrawn, uow.agreements.list_for(None)), withdrawn)
            receipt = self._receipt(withdrawn, "withdraw", now, *parties)
            with self.uows(write=True) as uow:
                if not uow.consents.withdraw(withdrawn, receipt.jws):
                    raise conflict("already_withdrawn", "this consent was withdrawn already")
                uow.audit.record(_entry("consent.withdraw", "done", citizen, withdrawn,
                                        receipt), now)
                uow.commit()
        except DomainError as error:
            reason = consents.refusal_reason(found, person_key, error.code)
            refuse(self.uows, self.clock, denial(
                "consent.withdraw", citizen, reason,
                # Someone else's consent: their key stays out of the caller's view.
                person_key=person_key if reason != "consent_not_yours" else None,
                detail={"consent": consent_id}), error)
        return withdrawn, receipt

    def list(self, citizen: Principal) -> list[ConsentView]:
        person_key = self._person(citizen, "consent.list")
        with self.uows() as uow:
            return [ConsentView(c, g, w) for c, g, w in uow.consents.of_person(person_key)]

    def asking(self, citizen: Principal) -> list[Agreement]:
        """The agreements in force that rest on consent: the organisations that may ask for
        the citizen's, for the citizen to choose from (no agreement number to know)."""
        self._person(citizen, "consent.list")
        now = self.clock.now()
        with self.uows() as uow:
            return [a for a in uow.agreements.list_for(None)
                    if a.legal_basis is LegalBasis.CONSENT
                    and a.state_at(now) is AgreementState.ACTIVE]

    def preview(self, citizen: Principal, agreement_id: int) -> Preview:
        """Exactly what the agreement would release about the citizen now: the same read of
        the provider's store and the same minimising transforms as a query, released to
        nobody but the citizen. Audited as a preview, not as a release."""
        person_key = self._person(citizen, "consent.preview")
        now = self.clock.now()
        with refusing(self.uows, self.clock, "consent.preview", citizen, person_key=person_key,
                      detail={"requested_agreement": str(agreement_id)}) as refusal:
            with self.uows() as uow:
                source = uow.agreements.with_source(agreement_id)
                if source is None:
                    raise not_found("agreement_unknown", f"no agreement {agreement_id}")
                agreement = source.agreement
                refusal.of_agreement(agreement)
                if agreement.legal_basis is not LegalBasis.CONSENT:
                    raise conflict("consent_not_needed",
                                   f"agreement {agreement_id} rests on "
                                   f"{agreement.legal_basis.value}, not on your consent")
                local_id = uow.people.identifiers(
                    person_key, [source.subject_scheme]).get(source.subject_scheme)
            record = None if local_id is None else self.connectors.for_dataset(
                agreement.dataset_id, source.connector).fetch(
                    local_id, sorted({g.source for g in agreement.grants}))
            if record is None:
                raise not_found("subject_unknown",
                                f"{agreement.provider_id} holds no record of you")
            data = minimise(agreement.grants, record, now.date())
            with self.uows(write=True) as uow:
                uow.audit.record(AuditEntry(
                    "consent.preview", "done", citizen.id, citizen.org_id,
                    agreement_id=agreement.id, provider_id=agreement.provider_id,
                    purpose=agreement.purpose_code, person_key=person_key,
                    fields=tuple(g.name for g in agreement.grants),
                    values_hash=sha256_hex({"preview": str(uuid.uuid4()), "data": data})),
                    now)
                uow.commit()
        return Preview(agreement, data, released_sources(agreement.grants, source.labels))

    # -- helpers ---------------------------------------------------------------------------

    def _person(self, principal: Principal, action: str) -> str:
        require_role(self.uows, self.clock, principal, {Role.CITIZEN}, action)
        if principal.person_key is None:
            refuse_as(self.uows, self.clock, action, principal,
                      not_found("person_unknown", "this citizen account names no person"))
        return principal.person_key

    def _parties(self, uow: ConsentsUnitOfWork, covering: list[Agreement],
                 consent: Consent) -> tuple[list[Controller], list[Service]]:
        """Who receives the data (the controllers) and where it comes from (the services)."""
        names: dict[str, str] = {}

        def name(org_id: str) -> str:
            if org_id not in names:
                org = uow.catalogue.organisation(org_id)
                names[org_id] = org.name if org else org_id
            return names[org_id]

        controllers = [Controller(name(c)) for c in sorted({a.consumer_id for a in covering})]
        services = []
        for dataset_id in sorted({a.dataset_id for a in covering}):
            dataset = uow.catalogue.dataset(dataset_id)
            on_it = [a for a in covering if a.dataset_id == dataset_id]
            special = sorted({
                g.source for a in on_it for g in a.grants if g.name in consent.fields
                and dataset is not None and (spec := dataset.field(g.source)) is not None
                and spec.sensitivity is Sensitivity.SPECIAL})
            services.append(Service(
                f"{name(on_it[0].provider_id)}: {dataset.title if dataset else dataset_id}",
                on_it[0].purpose_text, tuple(name(a.consumer_id) for a in on_it),
                tuple(special)))
        return controllers, services

    def _receipt(self, consent: Consent, event: str, at: datetime,
                 controllers: list[Controller], services: list[Service]) -> Receipt:
        document = consents.receipt(
            consent, receipt_id=str(uuid.uuid4()), event=event, at=at, controllers=controllers,
            services=services, policy_url=self.policy_url, public_key=self._public_key())
        return Receipt(document, self.signer.sign_compact_for(self.operator_org,
                                                              canonical_json(document)))

    def _public_key(self) -> str:
        """The operator's active public key (a JWK, as canonical JSON): the key whose kid a
        signature made now carries."""
        probe = self.signer.sign_compact_for(self.operator_org, b"{}")
        kid = extract_compact(probe.encode()).headers()["kid"]
        jwk = next(k for k in self.signer.jwks()["keys"] if k.get("kid") == kid)
        return canonical_json(jwk).decode()


def _entry(action: str, outcome: str, citizen: Principal, consent: Consent,
           receipt: Receipt) -> AuditEntry:
    return AuditEntry(
        action, outcome, citizen.id, citizen.org_id, purpose=consent.purpose,
        person_key=consent.person_key, fields=consent.fields,
        values_hash=sha256_hex(receipt.document),
        detail={"consent": consent.id, "consumer": consent.consumer_id,
                "receipt": receipt.document["consentReceiptID"],
                "expires_at": consent.expires_at.isoformat()})
