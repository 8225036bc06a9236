"""The guardian's work queues: deliveries to their organisation that were dead-lettered
(sent again with a button), accuracy challenges of their organisation's data (correct with
a value, or reject, each with a reason), and identity links of their organisation's
identifiers awaiting confirmation. Thin: each action is one use case call, and a refusal is
shown where the guardian acted."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Principal, Role
from onceonly.entrypoints.http_status import http_status
from onceonly.entrypoints.web.common import NO_REASON, form_text
from onceonly.entrypoints.web.i18n import N_
from onceonly.entrypoints.web.plain import words
from onceonly.entrypoints.web.portal import Portal
from onceonly.services.accuracy import AccuracyService
from onceonly.services.identity import IdentityService
from onceonly.services.life_events import LifeEventService

GUARDIAN = {Role.GUARDIAN}
CHALLENGE_ACTIONS = ("correct", "reject")
LINK_ACTIONS = ("confirm", "reject")
LINK_DONE = {"confirmed": N_("Link %(number)s confirmed."),
             "rejected": N_("Link %(number)s rejected.")}
MAX_VALUE = 200


class GuardianQueuePages:
    def __init__(self, portal: Portal, *, life_events: LifeEventService,
                 accuracy: AccuracyService, identity: IdentityService) -> None:
        self.portal = portal
        self.life_events = life_events
        self.accuracy = accuracy
        self.identity = identity

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        router.add_api_route("/guardian/queues", self.queues, methods=["GET"])
        router.add_api_route("/guardian/deliveries/{delivery_id}/redeliver", self.redeliver,
                             methods=["POST"])
        router.add_api_route("/guardian/challenges/{challenge_id}", self.decide_challenge,
                             methods=["POST"])
        router.add_api_route("/guardian/links/{candidate_id}", self.decide_link,
                             methods=["POST"])
        return router

    def queues(self, request: Request) -> HTMLResponse:
        guardian = self.portal.signed_in(request, GUARDIAN)
        return self._queues_page(request, guardian)

    def _queues_page(self, request: Request, guardian: Principal, status: int = 200,
                     **context: Any) -> HTMLResponse:
        return self.portal.render(
            request, "guardian/queues.html", status,
            dead_letters=self.life_events.dead_letters(guardian),
            challenges=self.accuracy.queue(guardian),
            links=self.identity.candidates(guardian),
            errors=context.pop("errors", {}), values=context.pop("values", {}), **context)

    async def redeliver(self, request: Request, delivery_id: str) -> HTMLResponse:
        guardian = self.portal.signed_in(request, GUARDIAN)
        await self.portal.form(request)
        try:
            again = self.life_events.redeliver(guardian, delivery_id[:64])
        except DomainError as refused:
            return self._queues_page(request, guardian, http_status(refused), refused=refused)
        return self._queues_page(request, guardian, done=f"delivery {again.id} to "
                                 f"{again.receiver_id} is queued again, from its first attempt")

    async def decide_challenge(self, request: Request, challenge_id: int) -> HTMLResponse:
        guardian = self.portal.signed_in(request, GUARDIAN)
        form = await self.portal.form(request)
        action, reason = form_text(form, "action", 16), form_text(form, "reason")
        value = form_text(form, "value", MAX_VALUE)
        key = f"challenge-{challenge_id}"
        errors = {}
        if action not in CHALLENGE_ACTIONS:
            errors["action"] = N_("choose correct or reject")
        elif action == "correct" and not value:
            errors["value"] = N_("enter the corrected value")
        if not reason:
            errors["reason"] = NO_REASON
        values = {key: {"value": value, "reason": reason}}
        if errors:
            return self._queues_page(request, guardian, 422, errors={key: errors}, values=values)
        try:
            if action == "correct":
                corrected = self.accuracy.correct(guardian, challenge_id, value, reason)
                told = ", ".join(self.portal.names.name(r.consumer_id)
                                 for r in corrected.notified)
                done = (words(N_("Challenge %(number)s corrected. Told of the correction: "
                                 "%(told)s."), number=challenge_id, told=told) if told else
                        words(N_("Challenge %(number)s corrected. No organisation had to be "
                                 "told."), number=challenge_id))
            else:
                self.accuracy.reject(guardian, challenge_id, reason)
                done = words(N_("Challenge %(number)s rejected."), number=challenge_id)
        except DomainError as refused:
            field = "value" if refused.code in ("value_type_mismatch", "no_change") else "reason"
            return self._queues_page(request, guardian, http_status(refused), values=values,
                                     errors={key: {field: refused}}, refused=refused)
        return self._queues_page(request, guardian, done=done)

    async def decide_link(self, request: Request, candidate_id: int) -> HTMLResponse:
        guardian = self.portal.signed_in(request, GUARDIAN)
        form = await self.portal.form(request)
        action, reason = form_text(form, "action", 16), form_text(form, "reason")
        key = f"link-{candidate_id}"
        errors = {}
        if action not in LINK_ACTIONS:
            errors["action"] = N_("choose confirm or reject")
        if not reason:
            errors["reason"] = NO_REASON
        values = {key: {"reason": reason}}
        if errors:
            return self._queues_page(request, guardian, 422, errors={key: errors}, values=values)
        try:
            decide = self.identity.confirm if action == "confirm" else self.identity.reject
            decided = decide(guardian, candidate_id, reason)
        except DomainError as refused:
            return self._queues_page(request, guardian, http_status(refused), values=values,
                                     errors={key: {"reason": refused}}, refused=refused)
        return self._queues_page(request, guardian,
                                 done=words(LINK_DONE[decided.status.value],
                                            number=candidate_id))
