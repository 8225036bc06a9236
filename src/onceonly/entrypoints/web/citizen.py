"""The citizen's portal: who accessed my data (each entry checkable against the signed log),
two-step sign-in, my consents (a preview of exactly what an agreement would release before
granting it), and challenging a value a provider holds. Tell us once has its own module."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Principal, Role
from onceonly.entrypoints.http_status import http_status
from onceonly.entrypoints.web.common import form_text, is_htmx
from onceonly.entrypoints.web.i18n import N_
from onceonly.entrypoints.web.portal import Portal
from onceonly.services.accounts import AccountService
from onceonly.services.accuracy import AccuracyService, HeldRecord
from onceonly.services.audit import AuditService
from onceonly.services.consents import ConsentService
from onceonly.services.entry_verification import EntryVerifier
from onceonly.services.ports.clock import Clock

CITIZEN = {Role.CITIZEN}
ACCESS_LOG_PAGE = 50
MAX_AGREEMENT = 2**31 - 1
MAX_VALUE = 200  # the longest value a citizen proposes
CONSENT_DAYS = (30, 90, 365)
# Where a refusal of a challenge is shown: beside the field it is about.
CHALLENGE_ERROR_FIELD = {"dataset_unknown": "held", "record_unknown": "held",
                         "field_not_visible": "held", "challenge_open": "held",
                         "reason_required": "what_is_wrong"}
# A value picked from the list of what each organisation holds: its dataset and field.
HELD_SEPARATOR = "#"
HELD_SEEN = "held_seen"  # the form's field carrying what the page showed was held


class CitizenPages:
    def __init__(self, portal: Portal, *, audit: AuditService, verifier: EntryVerifier,
                 accounts: AccountService, consents: ConsentService,
                 accuracy: AccuracyService, clock: Clock) -> None:
        self.portal = portal
        self.audit = audit
        self.verifier = verifier
        self.accounts = accounts
        self.consents = consents
        self.accuracy = accuracy
        self.clock = clock

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        router.add_api_route("/citizen", self.access_log, methods=["GET"])
        router.add_api_route("/citizen/access/{index}/verify", self.verify, methods=["GET"])
        router.add_api_route("/citizen/security", self.security, methods=["GET"])
        router.add_api_route("/citizen/security/totp", self.totp_begin, methods=["POST"])
        router.add_api_route("/citizen/security/totp/confirm", self.totp_confirm,
                             methods=["POST"])
        router.add_api_route("/citizen/consents", self.consents_page, methods=["GET"])
        router.add_api_route("/citizen/consents", self.grant, methods=["POST"])
        router.add_api_route("/citizen/consents/{consent_id}/withdraw", self.withdraw,
                             methods=["POST"])
        router.add_api_route("/citizen/challenges", self.challenges_page, methods=["GET"])
        router.add_api_route("/citizen/challenges", self.challenge, methods=["POST"])
        return router

    # who accessed my data --------------------------------------------------------------------

    def access_log(self, request: Request) -> HTMLResponse:
        citizen = self.portal.signed_in(request, CITIZEN)
        before = request.query_params.get("before")
        before_index = int(before) if before and before.isdigit() else None
        try:
            accesses, next_before = self.audit.access_log(citizen, before=before_index,
                                                          limit=ACCESS_LOG_PAGE)
        except DomainError as refused:
            return self.portal.refused_page(request, refused)
        return self.portal.render(request, "citizen/access_log.html", accesses=accesses,
                                  next_before=next_before)

    def verify(self, request: Request, index: int) -> HTMLResponse:
        """Reads only, so a link (GET): the partial for htmx, else a page of its own."""
        citizen = self.portal.signed_in(request, CITIZEN)
        template = ("citizen/_verification.html" if is_htmx(request)
                    else "citizen/verification.html")
        try:
            result = self.verifier.verify(citizen, index)
        except DomainError as refused:
            return self.portal.render(request, template, http_status(refused), index=index,
                                      error=refused)
        return self.portal.render(request, template, index=index, result=result)

    # two-step sign-in ------------------------------------------------------------------------

    def security(self, request: Request) -> HTMLResponse:
        citizen = self.portal.signed_in(request, CITIZEN)
        return self._security_page(request, citizen)

    def _security_page(self, request: Request, citizen: Principal, status: int = 200,
                       **context: Any) -> HTMLResponse:
        try:
            account = self.accounts.account_of(citizen)
        except DomainError as refused:
            return self.portal.refused_page(request, refused)
        return self.portal.render(request, "citizen/security.html", status, account=account,
                                  **context)

    async def totp_begin(self, request: Request) -> HTMLResponse:
        citizen = self.portal.signed_in(request, CITIZEN)
        await self.portal.form(request)
        try:
            enrolment = self.accounts.begin_totp(citizen)
        except DomainError as refused:
            return self.portal.refused_page(request, refused)
        return self._security_page(request, citizen, enrolment=enrolment)

    async def totp_confirm(self, request: Request) -> HTMLResponse:
        citizen = self.portal.signed_in(request, CITIZEN)
        form = await self.portal.form(request)
        code = form_text(form, "code", 16)
        if not code:
            return self._security_page(request, citizen, 422,
                                       errors={"code": N_("enter the 6-digit code")})
        try:
            self.accounts.confirm_totp(citizen, code)
        except DomainError as refused:
            return self._security_page(request, citizen, http_status(refused),
                                       errors={"code": refused}, confirming=True)
        return self._security_page(request, citizen, confirmed=True)

    # my consents -----------------------------------------------------------------------------

    def consents_page(self, request: Request) -> HTMLResponse:
        """My consents; with ?agreement=N, a preview of exactly what agreement N would
        release about me, and the form to grant it."""
        citizen = self.portal.signed_in(request, CITIZEN)
        asked = request.query_params.get("agreement", "").strip()
        if not asked:
            return self._consents_page(request, citizen)
        if not asked.isdigit() or not 0 < int(asked) <= MAX_AGREEMENT:
            return self._consents_page(request, citizen, 422, agreement=asked, errors={
                "agreement": N_("an agreement number is a whole number, such as 4")})
        try:
            preview = self.consents.preview(citizen, int(asked))
        except DomainError as refused:
            return self._consents_page(request, citizen, http_status(refused),
                                       agreement=asked, errors={"agreement": refused})
        return self._consents_page(request, citizen, agreement=asked, preview=preview)

    def _consents_page(self, request: Request, citizen: Principal, status: int = 200,
                       **context: Any) -> HTMLResponse:
        return self.portal.render(request, "citizen/consents.html", status,
                                  consents=self.consents.list(citizen), now=self.clock.now(),
                                  asking=self.consents.asking(citizen),
                                  durations=CONSENT_DAYS, **context)

    async def grant(self, request: Request) -> HTMLResponse:
        citizen = self.portal.signed_in(request, CITIZEN)
        form = await self.portal.form(request)
        asked, days = form_text(form, "agreement", 12), form_text(form, "days", 4)
        purpose, consumer = form_text(form, "purpose", 64), form_text(form, "consumer", 64)
        fields = [f for f in form_text(form, "fields", 2000).split(",") if f]
        if days not in {str(d) for d in CONSENT_DAYS}:
            return self._consents_page(request, citizen, 422, agreement=asked, errors={
                "days": N_("choose how long the consent lasts")})
        try:
            # Exactly what the preview showed (its purpose, consumer and fields); the
            # service refuses what no agreement covers.
            consent, _ = self.consents.grant(citizen, purpose, consumer or None, fields,
                                             self.clock.now() + timedelta(days=int(days)))
        except DomainError as refused:
            return self._consents_page(request, citizen, http_status(refused),
                                       agreement=asked, errors={"days": refused})
        return self._consents_page(request, citizen, granted=consent)

    async def withdraw(self, request: Request, consent_id: str) -> HTMLResponse:
        citizen = self.portal.signed_in(request, CITIZEN)
        await self.portal.form(request)
        try:
            consent, _ = self.consents.withdraw(citizen, consent_id[:64])
        except DomainError as refused:
            return self._consents_page(request, citizen, http_status(refused),
                                       withdraw_error=refused)
        return self._consents_page(request, citizen, withdrawn=consent)

    # challenge a value -----------------------------------------------------------------------

    def challenges_page(self, request: Request) -> HTMLResponse:
        """The one render that reads (and audits) what each provider holds: the form carries
        what it showed to the page after it."""
        citizen = self.portal.signed_in(request, CITIZEN)
        return self._challenges_page(request, citizen, self.accuracy.own_values(citizen))

    def _challenges_page(self, request: Request, citizen: Principal,
                         held: dict[str, HeldRecord], status: int = 200,
                         **context: Any) -> HTMLResponse:
        return self.portal.render(request, "citizen/challenges.html", status,
                                  datasets=self.accuracy.challengeable_datasets(),
                                  held=held, held_seen=self.portal.csrf.carry(
                                      request, _shown(held)),
                                  challenges=self.accuracy.mine(citizen),
                                  errors=context.pop("errors", {}),
                                  values=context.pop("values", {}), **context)

    async def challenge(self, request: Request) -> HTMLResponse:
        citizen = self.portal.signed_in(request, CITIZEN)
        form = await self.portal.form(request)
        # What the form's page showed, not read (nor audited) again; if it does not come
        # back intact, the page after it shows no values rather than read them again.
        held = _held(self.portal.csrf.carried(request, form_text(form, HELD_SEEN, 64_000)))
        chosen = form_text(form, "held", 200)
        dataset, _, field = chosen.rpartition(HELD_SEPARATOR)
        values = {"held": chosen, "dataset": dataset, "field": field,
                  "what_is_wrong": form_text(form, "what_is_wrong"),
                  "proposed_value": form_text(form, "proposed_value", MAX_VALUE)}
        errors = {name: message for name, message in (
            ("held", N_("Choose the value that is wrong from the list")),
            ("what_is_wrong", N_("say what is wrong with it"))) if not values[name]}
        if errors:
            return self._challenges_page(request, citizen, held, 422, errors=errors,
                                         values=values)
        try:
            raised = await run_in_threadpool(  # the provider's record is read: off the loop
                self.accuracy.raise_challenge, citizen, values["dataset"], values["field"],
                values["what_is_wrong"], values["proposed_value"] or None)
        except DomainError as refused:
            shown_at = CHALLENGE_ERROR_FIELD.get(refused.code, "held")
            return self._challenges_page(request, citizen, held, http_status(refused),
                                         errors={shown_at: refused}, values=values)
        return self._challenges_page(request, citizen, held, raised=raised)


def _shown(held: dict[str, HeldRecord]) -> dict[str, Any]:
    """What the challenge page shows of each provider's record, as JSON for its form."""
    return {dataset_id: {"values": record.values, "unread": record.unread}
            for dataset_id, record in held.items()}


def _held(shown: Any) -> dict[str, HeldRecord]:
    """`_shown`'s JSON back as records; nothing if it is not that shape."""
    if not isinstance(shown, dict):
        return {}
    return {dataset_id: HeldRecord(dataset_id, record.get("values"), record.get("unread"))
            for dataset_id, record in shown.items() if isinstance(record, dict)}
