"""The guardian's portal: the agreements on their organisation's data awaiting a decision or
in force (approve, reject, suspend, resume, revoke, each with a reason), the anomaly alerts
to resolve, the kill switch that cuts a consumer off, and the organisation's datasets with
each version published. The work queues (deliveries,
challenges, links) have their own module."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from onceonly.domain.agreements import Agreement, AgreementStatus
from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Principal, Role
from onceonly.entrypoints.http_status import http_status
from onceonly.entrypoints.web.common import NO_REASON, form_text, is_htmx
from onceonly.entrypoints.web.guardian_agreement import (
    GuardianAgreementPages,
    ask_to_confirm_revoke,
    confirmed,
    kill_switch_confirmation,
)
from onceonly.entrypoints.web.i18n import N_
from onceonly.entrypoints.web.portal import Portal
from onceonly.services.agreements import AgreementService
from onceonly.services.anomaly import RESOLUTIONS, AnomalyService
from onceonly.services.catalogue import CatalogueService
from onceonly.services.kill_switch import KillSwitchService
from onceonly.services.ports.clock import Clock

GUARDIAN = {Role.GUARDIAN}
AGREEMENT_ACTIONS = ("approve", "reject", "suspend", "resume", "revoke")
IN_FORCE = (AgreementStatus.APPROVED, AgreementStatus.SUSPENDED)
# What a decision did, in words: one whole sentence for each action.
DONE = {"approve": N_("Approval recorded."), "reject": N_("Rejection recorded."),
        "suspend": N_("Suspension recorded."), "resume": N_("Resumption recorded."),
        "revoke": N_("Revocation recorded.")}


class GuardianPages:
    def __init__(self, portal: Portal, *, agreements: AgreementService,
                 anomaly: AnomalyService, kill_switch: KillSwitchService,
                 clock: Clock, catalogue: CatalogueService | None = None,
                 confirmations: GuardianAgreementPages | None = None) -> None:
        self.portal = portal
        self.confirmations = confirmations  # revoke and the kill switch confirm first
        self.catalogue = catalogue
        self.agreements = agreements
        self.anomaly = anomaly
        self.kill_switch = kill_switch
        self.clock = clock

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        router.add_api_route("/guardian", self.console, methods=["GET"])
        router.add_api_route("/guardian/agreements/{agreement_id}", self.decide_agreement,
                             methods=["POST"])
        router.add_api_route("/guardian/alerts/{alert_id}", self.resolve_alert,
                             methods=["POST"])
        router.add_api_route("/guardian/kill-switch", self.kill_switch_page, methods=["GET"])
        router.add_api_route("/guardian/kill-switch", self.pull_kill_switch, methods=["POST"])
        router.add_api_route("/guardian/kill-switch/{switch_id}/restore",
                             self.restore_kill_switch, methods=["POST"])
        return router

    def _provided_by_guardian(self, guardian: Principal) -> list[Agreement]:
        """The agreements on the guardian's organisation's data (not those it consumes)."""
        return [a for a in self.agreements.list(guardian) if a.provider_id == guardian.org_id]

    # agreements and alerts -------------------------------------------------------------------

    def console(self, request: Request) -> HTMLResponse:
        guardian = self.portal.signed_in(request, GUARDIAN)
        agreements = self._provided_by_guardian(guardian)
        awaiting = [a for a in agreements if a.status is AgreementStatus.SUBMITTED]
        in_force = [a for a in agreements if a.status in IN_FORCE]
        alerts = self.anomaly.alerts(guardian)
        datasets: list[Any] = []
        if self.catalogue is not None:
            catalogue = self.catalogue.read()
            datasets = [(d, catalogue.versions.get(d.id, ())) for d in catalogue.datasets
                        if d.provider_id == guardian.org_id]
        return self.portal.render(request, "guardian/console.html", awaiting=awaiting,
                                  in_force=in_force, alerts=alerts, now=self.clock.now(),
                                  actions=AGREEMENT_ACTIONS, resolutions=list(RESOLUTIONS),
                                  datasets=datasets)

    async def decide_agreement(self, request: Request, agreement_id: int) -> HTMLResponse:
        guardian = self.portal.signed_in(request, GUARDIAN)
        form = await self.portal.form(request)
        action, reason = form_text(form, "action", 16), form_text(form, "reason")
        errors = {}
        if action not in AGREEMENT_ACTIONS:
            errors["action"] = N_("choose what to do")
        if not reason:
            errors["reason"] = NO_REASON
        agreement, status = None, 422
        if not errors and action == "revoke" and not confirmed(form) and self.confirmations:
            asked = ask_to_confirm_revoke(self.confirmations, request, guardian, agreement_id,
                                          reason)
            if asked is not None:
                return asked  # type: ignore[return-value]
        if not errors:
            try:
                agreement = self.agreements.transition(guardian, agreement_id, action, reason)
                status = 200
            except DomainError as refused:
                errors["reason"], status = refused, http_status(refused)
        if agreement is None:
            try:
                agreement = self.agreements.get(guardian, agreement_id)
            except DomainError:
                agreement = None  # not theirs: the refusal alone is shown
        template = "guardian/_agreement.html" if is_htmx(request) else "guardian/decision.html"
        return self.portal.render(
            request, template, status, agreement=agreement, agreement_id=agreement_id,
            errors=errors, now=self.clock.now(), actions=AGREEMENT_ACTIONS,
            done=DONE.get(action) if status == 200 else None, action=action,
            reason=reason)

    async def resolve_alert(self, request: Request, alert_id: int) -> HTMLResponse:
        guardian = self.portal.signed_in(request, GUARDIAN)
        form = await self.portal.form(request)
        action, reason = form_text(form, "action", 16), form_text(form, "reason")
        errors, alert, status = {}, None, 422
        if action not in RESOLUTIONS:
            errors["action"] = N_("choose resume or revoke")
        if not reason:
            errors["reason"] = NO_REASON
        if not errors:
            try:
                alert = self.anomaly.resolve(guardian, alert_id, action, reason)
                status = 200
            except DomainError as refused:
                errors["reason"], status = refused, http_status(refused)
        if alert is None:
            alert = next((a for a in self.anomaly.alerts(guardian) if a.id == alert_id),
                         None)
        template = "guardian/_alert.html" if is_htmx(request) else "guardian/alert.html"
        return self.portal.render(request, template, status, alert=alert, alert_id=alert_id,
                                  errors=errors, resolutions=list(RESOLUTIONS),
                                  done=status == 200, reason=reason)

    # the kill switch -------------------------------------------------------------------------

    def kill_switch_page(self, request: Request) -> HTMLResponse:
        return self._kill_switch_page(request)

    def _kill_switch_page(self, request: Request, status: int = 200,
                          **context: Any) -> HTMLResponse:
        guardian = self.portal.signed_in(request, GUARDIAN)
        consumers = sorted({a.consumer_id for a in self._provided_by_guardian(guardian)})
        switches = self.kill_switch.list(guardian)
        return self.portal.render(request, "guardian/kill_switch.html", status,
                                  consumers=consumers, switches=switches, **context)

    async def pull_kill_switch(self, request: Request) -> HTMLResponse:
        guardian = self.portal.signed_in(request, GUARDIAN)
        form = await self.portal.form(request)
        consumer, reason = form_text(form, "consumer", 64), form_text(form, "reason")
        errors = {}
        if not consumer:
            errors["consumer"] = N_("choose the organisation to cut off")
        if not reason:
            errors["reason"] = NO_REASON
        if errors:
            return self._kill_switch_page(request, 422, errors=errors, reason=reason)
        if self.confirmations and not confirmed(form):
            return kill_switch_confirmation(self.confirmations, request, guardian, consumer,
                                            reason)
        try:
            switch = self.kill_switch.pull(guardian, consumer, reason)
        except DomainError as refused:
            return self._kill_switch_page(request, http_status(refused),
                                          errors={"consumer": refused}, reason=reason)
        return self._kill_switch_page(request, pulled=switch)

    async def restore_kill_switch(self, request: Request, switch_id: int) -> HTMLResponse:
        guardian = self.portal.signed_in(request, GUARDIAN)
        form = await self.portal.form(request)
        reason = form_text(form, "reason")
        if not reason:
            return self._kill_switch_page(request, 422, restore_errors={switch_id: NO_REASON})
        try:
            switch = self.kill_switch.restore(guardian, switch_id, reason)
        except DomainError as refused:
            return self._kill_switch_page(request, http_status(refused),
                                          restore_errors={switch_id: refused})
        return self._kill_switch_page(request, restored=switch)
