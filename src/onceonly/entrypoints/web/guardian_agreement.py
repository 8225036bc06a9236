"""The guardian's page for one agreement: everything in it a guardian decides from (each
field's label, sensitivity and description; retention; limits; hiding; who drafted it and
when; the privacy impact assessment; the Article 9 condition), the consumer's other
agreements and its past alerts; and the pages that ask a guardian to confirm revoking an
agreement or pulling the kill switch before it is done."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from onceonly.domain.agreements import Agreement, AgreementStatus
from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.special_category import LEGAL_REFERENCE
from onceonly.entrypoints.web.common import form_text, is_htmx
from onceonly.entrypoints.web.portal import PageRefused, Portal
from onceonly.services.agreements import AgreementService
from onceonly.services.anomaly import AnomalyService
from onceonly.services.catalogue import CatalogueService
from onceonly.services.register import LEGAL_BASIS_WORDS, RegisterService

GUARDIAN = {Role.GUARDIAN}
REVOCABLE = (AgreementStatus.SUBMITTED, AgreementStatus.APPROVED, AgreementStatus.SUSPENDED)
CONFIRMED = "yes"


def confirmed(form: Any) -> bool:
    """Whether the form comes from a confirmation page (revoke, kill switch)."""
    return form_text(form, "confirmed", 8) == CONFIRMED


class GuardianAgreementPages:
    def __init__(self, portal: Portal, *, agreements: AgreementService,
                 anomaly: AnomalyService, catalogue: CatalogueService,
                 register: RegisterService) -> None:
        self.portal = portal
        self.agreements = agreements
        self.anomaly = anomaly
        self.catalogue = catalogue
        self.register = register

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        router.add_api_route("/guardian/agreements/{agreement_id}", self.agreement_page,
                             methods=["GET"])
        router.add_api_route("/guardian/agreements/{agreement_id}/revoke", self.confirm_revoke,
                             methods=["GET"])
        return router

    def _agreement(self, request: Request, guardian: Principal,
                   agreement_id: int) -> Agreement:
        try:
            return self.agreements.get(guardian, agreement_id)
        except DomainError as refused:
            raise PageRefused(self.portal.refused_page(request, refused)) from None

    def agreement_page(self, request: Request, agreement_id: int) -> HTMLResponse:
        guardian = self.portal.signed_in(request, GUARDIAN)
        agreement = self._agreement(request, guardian, agreement_id)
        catalogue = self.catalogue.read()
        names = {o.id: o.name for o in catalogue.organisations}
        dataset = next((d for d in catalogue.datasets if d.id == agreement.dataset_id), None)
        fields = [(g, dataset.field(g.source) if dataset else None) for g in agreement.grants]
        visible = [a for a in self.agreements.list(guardian)
                   if a.consumer_id == agreement.consumer_id and a.id != agreement.id]
        # In force with other providers: the public register has them.
        elsewhere = [e for e in self.register.in_force()
                     if e.agreement.consumer_id == agreement.consumer_id
                     and e.agreement.provider_id != guardian.org_id]
        alerts = [a for a in self.anomaly.alerts(guardian)
                  if a.consumer_id == agreement.consumer_id]
        return self.portal.render(
            request, "guardian/agreement.html", agreement=agreement, names=names,
            dataset=dataset, fields=fields, others=visible, elsewhere=elsewhere,
            alerts=alerts, now=self.register.now(),
            basis_words=LEGAL_BASIS_WORDS[agreement.legal_basis]["en"],
            condition_reference=(LEGAL_REFERENCE[agreement.special_category_condition]
                                 if agreement.special_category_condition else None),
            revocable=agreement.status in REVOCABLE)

    def confirm_revoke(self, request: Request, agreement_id: int) -> HTMLResponse:
        guardian = self.portal.signed_in(request, GUARDIAN)
        agreement = self._agreement(request, guardian, agreement_id)
        return self.revoke_confirmation(request, agreement,
                                        request.query_params.get("reason", "")[:500])

    def revoke_confirmation(self, request: Request, agreement: Agreement, reason: str,
                            status: int = 200) -> HTMLResponse:
        names = {o.id: o.name for o in self.catalogue.read().organisations}
        return self.portal.render(request, "guardian/confirm_revoke.html", status,
                                  agreement=agreement, names=names, reason=reason)


def ask_to_confirm_revoke(pages: GuardianAgreementPages, request: Request,
                          guardian: Principal, agreement_id: int,
                          reason: str) -> Response | None:
    """Before revoking: the confirmation page, when the guardian may revoke the agreement
    and has not yet confirmed (else None: the use case decides, refusing if it must)."""
    try:
        agreement = pages.agreements.get(guardian, agreement_id)
    except DomainError:
        return None
    if agreement.provider_id != guardian.org_id or agreement.status not in REVOCABLE:
        return None
    if is_htmx(request):  # a card of the console asked: the whole page goes to confirm
        response = Response(status_code=200)
        response.headers["HX-Redirect"] = (f"/guardian/agreements/{agreement_id}/revoke?"
                                           + urlencode({"reason": reason}))
        return response
    return pages.revoke_confirmation(request, agreement, reason)


def kill_switch_confirmation(pages: GuardianAgreementPages, request: Request,
                             guardian: Principal, consumer: str, reason: str) -> HTMLResponse:
    """Before pulling the kill switch: what it will cut off, to confirm on a page of its
    own."""
    names = {o.id: o.name for o in pages.catalogue.read().organisations}
    now = pages.register.now()
    cut_off = [a for a in pages.agreements.list(guardian)
               if a.provider_id == guardian.org_id and a.consumer_id == consumer
               and a.status is AgreementStatus.APPROVED and a.in_force_at(now)]
    return pages.portal.render(request, "guardian/confirm_kill_switch.html",
                               consumer=consumer, consumer_name=names.get(consumer, consumer),
                               cut_off=cut_off, reason=reason)
