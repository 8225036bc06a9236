"""The guardian's work queues: deliveries to their organisation that were dead-lettered
(sent again with a button), accuracy challenges of their organisation's data (correct with
a value, or reject, each with a reason), and identity links of their organisation's
identifiers awaiting confirmation. Thin, like pages.py: each action is one use case call,
and a refusal is shown where the guardian acted."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Role
from onceonly.entrypoints.web.pages import Portal, _status, _text

GUARDIAN = {Role.GUARDIAN}
CHALLENGE_ACTIONS = ("correct", "reject")
LINK_ACTIONS = ("confirm", "reject")
MAX_VALUE = 200
NO_REASON = "say why: every decision is recorded with its reason"


class GuardianPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.exchange = portal.exchange

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
        self.portal.signed_in(request, GUARDIAN)
        return self._page(request)

    def _page(self, request: Request, status: int = 200, **context: Any) -> HTMLResponse:
        guardian = request.state.web_principal
        return self.portal.render(
            request, "guardian/queues.html", status,
            dead_letters=self.exchange.life_events.dead_letters(guardian),
            challenges=self.exchange.challenges.queue(guardian),
            links=self.exchange.identity.candidates(guardian),
            errors=context.pop("errors", {}), values=context.pop("values", {}), **context)

    async def redeliver(self, request: Request, delivery_id: str) -> HTMLResponse:
        guardian = self.portal.signed_in(request, GUARDIAN)
        await self.portal.form(request)
        try:
            again = self.exchange.life_events.redeliver(guardian, delivery_id[:64])
        except DomainError as refused:
            return self._page(request, _status(refused), refused=refused)
        return self._page(request, done=f"delivery {again.id} to {again.receiver_id} is "
                                        "queued again, from its first attempt")

    async def decide_challenge(self, request: Request, challenge_id: int) -> HTMLResponse:
        guardian = self.portal.signed_in(request, GUARDIAN)
        form = await self.portal.form(request)
        action, reason = _text(form, "action", 16), _text(form, "reason")
        value = _text(form, "value", MAX_VALUE)
        key = f"challenge-{challenge_id}"
        errors = {}
        if action not in CHALLENGE_ACTIONS:
            errors["action"] = "choose correct or reject"
        elif action == "correct" and not value:
            errors["value"] = "enter the corrected value"
        if not reason:
            errors["reason"] = NO_REASON
        values = {key: {"value": value, "reason": reason}}
        if errors:
            return self._page(request, 422, errors={key: errors}, values=values)
        try:
            if action == "correct":
                corrected = self.exchange.challenges.correct(guardian, challenge_id, value,
                                                             reason)
                told = ", ".join(r.consumer_id for r in corrected.notified) or "no one"
                done = f"challenge {challenge_id} corrected; told of the correction: {told}"
            else:
                self.exchange.challenges.reject(guardian, challenge_id, reason)
                done = f"challenge {challenge_id} rejected"
        except DomainError as refused:
            field = "value" if refused.code in ("value_type_mismatch", "no_change") else "reason"
            return self._page(request, _status(refused), values=values,
                              errors={key: {field: refused.detail}}, refused=refused)
        return self._page(request, done=done)

    async def decide_link(self, request: Request, candidate_id: int) -> HTMLResponse:
        guardian = self.portal.signed_in(request, GUARDIAN)
        form = await self.portal.form(request)
        action, reason = _text(form, "action", 16), _text(form, "reason")
        key = f"link-{candidate_id}"
        errors = {}
        if action not in LINK_ACTIONS:
            errors["action"] = "choose confirm or reject"
        if not reason:
            errors["reason"] = NO_REASON
        values = {key: {"reason": reason}}
        if errors:
            return self._page(request, 422, errors={key: errors}, values=values)
        try:
            decide = (self.exchange.identity.confirm if action == "confirm"
                      else self.exchange.identity.reject)
            decided = decide(guardian, candidate_id, reason)
        except DomainError as refused:
            return self._page(request, _status(refused), values=values,
                              errors={key: {"reason": refused.detail}}, refused=refused)
        return self._page(request, done=f"link {candidate_id} {decided.status.value}")
