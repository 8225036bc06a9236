"""The web portals: server-rendered pages over the same use cases as the API. Thin: read the
form, check its CSRF token, call a use case, render what it returned or why it refused.
No rule lives here or in a template."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CollectorRegistry

from onceonly.bootstrap import Exchange
from onceonly.domain.agreements import AgreementStatus
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.sign_in import SignInClosed
from onceonly.entrypoints.web.nav import home_for, nav_for
from onceonly.entrypoints.web.security import (
    SECURITY_HEADERS,
    WEB_SECRET,
    Csrf,
    clear_session_cookie,
    client_address,
    session_id,
    set_session_cookie,
)
from onceonly.services.anomaly import RESOLUTIONS
from onceonly.services.entry_verification import verify_entry

HERE = Path(__file__).parent
HTTP_STATUS = {ErrorKind.INVALID: 422, ErrorKind.UNAUTHENTICATED: 401,
               ErrorKind.FORBIDDEN: 403, ErrorKind.NOT_FOUND: 404, ErrorKind.CONFLICT: 409,
               ErrorKind.LIMITED: 429, ErrorKind.GONE: 410}
GUARDIAN_ACTIONS = ("approve", "reject", "suspend", "resume", "revoke")
MAX_REASON = 500
MAX_AGREEMENT = 2**31 - 1
CONSENT_DAYS = (30, 90, 365)


class PageRefused(Exception):
    """Raised by a page that must answer with another page (sign in; not for you)."""

    def __init__(self, response: Response) -> None:
        self.response = response


def mount_web(app: FastAPI, exchange: Exchange, registry: CollectorRegistry) -> None:
    """The portals and their vendored assets, on `app`."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    portal = Portal(exchange, registry)
    app.add_exception_handler(PageRefused, lambda _request, refused: refused.response)
    app.include_router(portal.router())
    # Pages that build on Portal, in modules of their own (imported here: they import it).
    from onceonly.entrypoints.web.citizen_pages import CitizenPages
    from onceonly.entrypoints.web.guardian_pages import GuardianPages
    app.include_router(CitizenPages(portal).router())
    app.include_router(GuardianPages(portal).router())


def _status(error: DomainError) -> int:
    return HTTP_STATUS[error.kind]


def _text(form: Any, name: str, limit: int = MAX_REASON) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _sentence(text: str) -> str:
    """A service's detail as a sentence: capitalised (the rest untouched), one full stop."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


class Portal:
    def __init__(self, exchange: Exchange, registry: CollectorRegistry) -> None:
        self.exchange = exchange
        self.registry = registry
        self.templates = Jinja2Templates(directory=HERE / "templates")
        self.templates.env.filters["sentence"] = _sentence
        self._csrf: Csrf | None = None

    @property
    def csrf(self) -> Csrf:
        if self._csrf is None:  # read once the database is migrated, on first use
            self._csrf = Csrf(self.exchange.audit.secrets.get(WEB_SECRET))
        return self._csrf

    # -- rendering --------------------------------------------------------------------------

    def render(self, request: Request, template: str, status: int = 200,
               **context: Any) -> HTMLResponse:
        principal = getattr(request.state, "web_principal", None)
        context.update(principal=principal, nav=nav_for(principal), path=request.url.path,
                       csrf_token=self.csrf.token(request))
        response = self.templates.TemplateResponse(request, template, context,
                                                   status_code=status)
        self.csrf.remember_visitor(request, response)
        response.headers.update(SECURITY_HEADERS)
        return response

    def refused_page(self, request: Request, error: DomainError) -> HTMLResponse:
        return self.render(request, "refused.html", _status(error), error=error)

    def sign_in_page(self, request: Request, status: int = 200,
                     **context: Any) -> HTMLResponse:
        return self.render(request, "sign_in.html", status, **context)

    # -- who is asking ----------------------------------------------------------------------

    def signed_in(self, request: Request, roles: Iterable[Role]) -> Principal:
        """The principal of the request's session, with one of `roles`; else the sign-in
        page (no, forged, expired or ended session) or a refusal (another role's page)."""
        try:
            principal = self.exchange.citizen_accounts.session(session_id(request))
        except DomainError as refused:
            response = (self.render(request, "_session_refused.html", 401, error=refused)
                        if _is_htmx(request) else
                        self.sign_in_page(request, 401, session_error=refused))
            if session_id(request):
                clear_session_cookie(response, request)
            raise PageRefused(response) from None
        request.state.web_principal = principal
        allowed = set(roles)
        if principal.role not in allowed:
            names = " or ".join(sorted(r.value for r in allowed))
            raise PageRefused(self.refused_page(request, DomainError(
                ErrorKind.FORBIDDEN, "role_not_allowed", f"this page is for {names} roles")))
        return principal

    async def form(self, request: Request) -> Any:
        """The posted form, once its CSRF token is checked; a refusal page otherwise."""
        form = await request.form()
        try:
            self.csrf.check(request, form)
        except DomainError as refused:
            raise PageRefused(self.refused_page(request, refused)) from None
        return form

    # -- routes -----------------------------------------------------------------------------

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        router.add_api_route("/", self.landing, methods=["GET"])
        router.add_api_route("/sign-in", self.sign_in_form, methods=["GET"])
        router.add_api_route("/sign-in/citizen", self.sign_in_citizen, methods=["POST"])
        router.add_api_route("/sign-in/staff", self.sign_in_staff, methods=["POST"])
        router.add_api_route("/sign-out", self.sign_out, methods=["POST"])
        router.add_api_route("/citizen", self.citizen_access_log, methods=["GET"])
        router.add_api_route("/citizen/access/{index}/verify", self.citizen_verify,
                             methods=["GET"])
        router.add_api_route("/citizen/security", self.citizen_security, methods=["GET"])
        router.add_api_route("/citizen/security/totp", self.citizen_totp_begin,
                             methods=["POST"])
        router.add_api_route("/citizen/security/totp/confirm", self.citizen_totp_confirm,
                             methods=["POST"])
        router.add_api_route("/citizen/consents", self.citizen_consents, methods=["GET"])
        router.add_api_route("/citizen/consents", self.citizen_grant, methods=["POST"])
        router.add_api_route("/citizen/consents/{consent_id}/withdraw", self.citizen_withdraw,
                             methods=["POST"])
        router.add_api_route("/guardian", self.guardian_console, methods=["GET"])
        router.add_api_route("/guardian/agreements/{agreement_id}", self.guardian_decide,
                             methods=["POST"])
        router.add_api_route("/guardian/alerts/{alert_id}", self.guardian_alert,
                             methods=["POST"])
        router.add_api_route("/guardian/kill-switch", self.kill_switch, methods=["GET"])
        router.add_api_route("/guardian/kill-switch", self.kill_switch_pull, methods=["POST"])
        router.add_api_route("/guardian/kill-switch/{switch_id}/restore",
                             self.kill_switch_restore, methods=["POST"])
        router.add_api_route("/manager", self.manager_dashboard, methods=["GET"])
        return router

    # landing and signing in ----------------------------------------------------------------

    def landing(self, request: Request) -> HTMLResponse:
        with contextlib.suppress(DomainError):  # the landing page is for everyone
            request.state.web_principal = self.exchange.citizen_accounts.session(
                session_id(request))
        return self.render(request, "landing.html")

    def sign_in_form(self, request: Request) -> HTMLResponse:
        return self.sign_in_page(request, signed_out="signed_out" in request.query_params)

    async def sign_in_citizen(self, request: Request) -> Response:
        form = await self.form(request)
        password = form.get("password")
        password = password if isinstance(password, str) else ""  # as typed: never stripped
        login, code = _text(form, "login", 64), _text(form, "code", 16)
        errors = {name: f"enter your {name}" for name, value in
                  (("login", login), ("password", password)) if not value}
        if errors:
            return self.sign_in_page(request, 422, errors=errors, login=login)
        try:
            signed_in = self.exchange.citizen_accounts.sign_in(
                login, password, code or None, client_address(request))
        except DomainError as refused:
            field = {"code_required": "code", "code_invalid": "code"}.get(refused.code,
                                                                          "password")
            page = self.sign_in_page(request, _status(refused), login=login,
                                     errors={field: refused.detail},
                                     ask_code=field == "code")
            if isinstance(refused, SignInClosed):
                page.headers["Retry-After"] = str(refused.retry_after)
            return page
        return self._signed_in(request, signed_in)

    async def sign_in_staff(self, request: Request) -> Response:
        form = await self.form(request)
        token = _text(form, "token", 200)
        if not token:
            return self.sign_in_page(request, 422, errors={"token": "paste your API token"})
        try:
            signed_in = self.exchange.citizen_accounts.sign_in_with_token(token)
        except DomainError as refused:
            return self.sign_in_page(request, _status(refused), errors={"token": refused.detail})
        return self._signed_in(request, signed_in)

    def _signed_in(self, request: Request, signed_in: Any) -> Response:
        previous = session_id(request)
        if previous:  # signing in again (as someone else, say) ends the session before
            self.exchange.citizen_accounts.sign_out(previous)
        response = RedirectResponse(home_for(signed_in.principal), status_code=303)
        set_session_cookie(response, request, signed_in.session_id)
        return response

    async def sign_out(self, request: Request) -> Response:
        await self.form(request)
        current = session_id(request)
        if current:
            self.exchange.citizen_accounts.sign_out(current)
        response = RedirectResponse("/sign-in?signed_out=1", status_code=303)
        clear_session_cookie(response, request)
        return response

    # citizen ---------------------------------------------------------------------------------

    def citizen_access_log(self, request: Request) -> HTMLResponse:
        citizen = self.signed_in(request, {Role.CITIZEN})
        before = request.query_params.get("before")
        before_index = int(before) if before and before.isdigit() else None
        try:
            accesses, next_before = self.exchange.audit.access_log(citizen, before=before_index,
                                                                   limit=50)
        except DomainError as refused:
            return self.refused_page(request, refused)
        return self.render(request, "citizen/access_log.html", accesses=accesses,
                           next_before=next_before)

    def citizen_verify(self, request: Request, index: int) -> HTMLResponse:
        """Reads only, so a link (GET): the partial for htmx, else a page of its own."""
        citizen = self.signed_in(request, {Role.CITIZEN})
        template = ("citizen/_verification.html" if _is_htmx(request)
                    else "citizen/verification.html")
        try:
            result = verify_entry(self.exchange.audit, self.exchange.keys.jwks(), citizen,
                                  index, self.exchange.audit.operator_org)
        except DomainError as refused:
            return self.render(request, template, _status(refused), index=index, error=refused)
        return self.render(request, template, index=index, result=result)

    def citizen_security(self, request: Request) -> HTMLResponse:
        citizen = self.signed_in(request, {Role.CITIZEN})
        return self._security_page(request, citizen)

    def _security_page(self, request: Request, citizen: Principal, status: int = 200,
                       **context: Any) -> HTMLResponse:
        try:
            account = self.exchange.citizen_accounts.account_of(citizen)
        except DomainError as refused:
            return self.refused_page(request, refused)
        return self.render(request, "citizen/security.html", status, account=account,
                           **context)

    async def citizen_totp_begin(self, request: Request) -> HTMLResponse:
        citizen = self.signed_in(request, {Role.CITIZEN})
        await self.form(request)
        try:
            enrolment = self.exchange.citizen_accounts.begin_totp(citizen)
        except DomainError as refused:
            return self.refused_page(request, refused)
        return self._security_page(request, citizen, enrolment=enrolment)

    async def citizen_totp_confirm(self, request: Request) -> HTMLResponse:
        citizen = self.signed_in(request, {Role.CITIZEN})
        form = await self.form(request)
        code = _text(form, "code", 16)
        if not code:
            return self._security_page(request, citizen, 422,
                                       errors={"code": "enter the 6-digit code"})
        try:
            self.exchange.citizen_accounts.confirm_totp(citizen, code)
        except DomainError as refused:
            return self._security_page(request, citizen, _status(refused),
                                       errors={"code": refused.detail}, confirming=True)
        return self._security_page(request, citizen, confirmed=True)

    def citizen_consents(self, request: Request) -> HTMLResponse:
        """My consents; with ?agreement=N, a preview of exactly what agreement N would
        release about me, and the form to grant it."""
        citizen = self.signed_in(request, {Role.CITIZEN})
        asked = request.query_params.get("agreement", "").strip()
        if not asked:
            return self._consents_page(request, citizen)
        if not asked.isdigit() or not 0 < int(asked) <= MAX_AGREEMENT:
            return self._consents_page(request, citizen, 422, agreement=asked, errors={
                "agreement": "an agreement number is a whole number, such as 4"})
        try:
            preview = self.exchange.consents.preview(citizen, int(asked))
        except DomainError as refused:
            return self._consents_page(request, citizen, _status(refused), agreement=asked,
                                       errors={"agreement": refused.detail})
        return self._consents_page(request, citizen, agreement=asked, preview=preview)

    def _consents_page(self, request: Request, citizen: Principal, status: int = 200,
                       **context: Any) -> HTMLResponse:
        return self.render(request, "citizen/consents.html", status,
                           consents=self.exchange.consents.list(citizen),
                           now=self.exchange.clock.now(), durations=CONSENT_DAYS, **context)

    async def citizen_grant(self, request: Request) -> HTMLResponse:
        citizen = self.signed_in(request, {Role.CITIZEN})
        form = await self.form(request)
        asked, days = _text(form, "agreement", 12), _text(form, "days", 4)
        purpose, consumer = _text(form, "purpose", 64), _text(form, "consumer", 64)
        fields = [f for f in _text(form, "fields", 2000).split(",") if f]
        if days not in {str(d) for d in CONSENT_DAYS}:
            return self._consents_page(request, citizen, 422, agreement=asked, errors={
                "days": "choose how long the consent lasts"})
        try:
            # Exactly what the preview showed (its purpose, consumer and fields); the
            # service refuses what no agreement covers.
            consent, _ = self.exchange.consents.grant(
                citizen, purpose, consumer or None, fields,
                self.exchange.clock.now() + timedelta(days=int(days)))
        except DomainError as refused:
            return self._consents_page(request, citizen, _status(refused), agreement=asked,
                                       errors={"days": refused.detail})
        return self._consents_page(request, citizen, granted=consent)

    async def citizen_withdraw(self, request: Request, consent_id: str) -> HTMLResponse:
        citizen = self.signed_in(request, {Role.CITIZEN})
        await self.form(request)
        try:
            consent, _ = self.exchange.consents.withdraw(citizen, consent_id[:64])
        except DomainError as refused:
            return self._consents_page(request, citizen, _status(refused),
                                       withdraw_error=refused)
        return self._consents_page(request, citizen, withdrawn=consent)

    # guardian --------------------------------------------------------------------------------

    def guardian_console(self, request: Request) -> HTMLResponse:
        guardian = self.signed_in(request, {Role.GUARDIAN})
        agreements = [a for a in self.exchange.agreements.list(guardian)
                      if a.provider_id == guardian.org_id]
        awaiting = [a for a in agreements if a.status is AgreementStatus.SUBMITTED]
        in_force = [a for a in agreements if a.status in (AgreementStatus.APPROVED,
                                                          AgreementStatus.SUSPENDED)]
        alerts = self.exchange.anomalies.alerts(guardian)
        return self.render(request, "guardian/console.html", awaiting=awaiting,
                           in_force=in_force, alerts=alerts, now=self.exchange.clock.now(),
                           actions=GUARDIAN_ACTIONS, resolutions=list(RESOLUTIONS))

    async def guardian_decide(self, request: Request, agreement_id: int) -> HTMLResponse:
        guardian = self.signed_in(request, {Role.GUARDIAN})
        form = await self.form(request)
        action, reason = _text(form, "action", 16), _text(form, "reason")
        errors = {}
        if action not in GUARDIAN_ACTIONS:
            errors["action"] = "choose what to do"
        if not reason:
            errors["reason"] = "say why: every decision is recorded with its reason"
        agreement, status = None, 422
        if not errors:
            try:
                agreement = self.exchange.agreements.transition(guardian, agreement_id, action,
                                                                reason)
                status = 200
            except DomainError as refused:
                errors["reason"], status = refused.detail, _status(refused)
        if agreement is None:
            try:
                agreement = self.exchange.agreements.get(guardian, agreement_id)
            except DomainError:
                agreement = None  # not theirs: the refusal alone is shown
        context = dict(agreement=agreement, agreement_id=agreement_id, errors=errors,
                       now=self.exchange.clock.now(), actions=GUARDIAN_ACTIONS,
                       done=f"{action} recorded" if status == 200 else None,
                       action=action, reason=reason)
        if _is_htmx(request):
            return self.render(request, "guardian/_agreement.html", status, **context)
        return self.render(request, "guardian/decision.html", status, **context)

    async def guardian_alert(self, request: Request, alert_id: int) -> HTMLResponse:
        guardian = self.signed_in(request, {Role.GUARDIAN})
        form = await self.form(request)
        action, reason = _text(form, "action", 16), _text(form, "reason")
        errors, alert, status = {}, None, 422
        if action not in RESOLUTIONS:
            errors["action"] = "choose resume or revoke"
        if not reason:
            errors["reason"] = "say why: every decision is recorded with its reason"
        if not errors:
            try:
                alert = self.exchange.anomalies.resolve(guardian, alert_id, action, reason)
                status = 200
            except DomainError as refused:
                errors["reason"], status = refused.detail, _status(refused)
        if alert is None:
            alert = next((a for a in self.exchange.anomalies.alerts(guardian)
                          if a.id == alert_id), None)
        template = "guardian/_alert.html" if _is_htmx(request) else "guardian/alert.html"
        return self.render(request, template, status, alert=alert, alert_id=alert_id,
                           errors=errors, resolutions=list(RESOLUTIONS), done=status == 200,
                           reason=reason)

    def kill_switch(self, request: Request) -> HTMLResponse:
        return self.kill_switch_page(request)

    def kill_switch_page(self, request: Request, status: int = 200,
                         **context: Any) -> HTMLResponse:
        guardian = self.signed_in(request, {Role.GUARDIAN})
        agreements = [a for a in self.exchange.agreements.list(guardian)
                      if a.provider_id == guardian.org_id]
        consumers = sorted({a.consumer_id for a in agreements})
        switches = self.exchange.kill_switches.list(guardian)
        return self.render(request, "guardian/kill_switch.html", status, consumers=consumers,
                           switches=switches, **context)

    async def kill_switch_pull(self, request: Request) -> HTMLResponse:
        guardian = self.signed_in(request, {Role.GUARDIAN})
        form = await self.form(request)
        consumer, reason = _text(form, "consumer", 64), _text(form, "reason")
        errors = {}
        if not consumer:
            errors["consumer"] = "choose the organisation to cut off"
        if not reason:
            errors["reason"] = "say why: every decision is recorded with its reason"
        if errors:
            return self.kill_switch_page(request, 422, errors=errors, reason=reason)
        try:
            switch = self.exchange.kill_switches.pull(guardian, consumer, reason)
        except DomainError as refused:
            return self.kill_switch_page(request, _status(refused),
                                         errors={"consumer": refused.detail}, reason=reason)
        return self.kill_switch_page(request, pulled=switch)

    async def kill_switch_restore(self, request: Request, switch_id: int) -> HTMLResponse:
        guardian = self.signed_in(request, {Role.GUARDIAN})
        form = await self.form(request)
        reason = _text(form, "reason")
        if not reason:
            return self.kill_switch_page(request, 422, restore_errors={
                switch_id: "say why: every decision is recorded with its reason"})
        try:
            switch = self.exchange.kill_switches.restore(guardian, switch_id, reason)
        except DomainError as refused:
            return self.kill_switch_page(request, _status(refused),
                                         restore_errors={switch_id: refused.detail})
        return self.kill_switch_page(request, restored=switch)

    # manager ---------------------------------------------------------------------------------

    def manager_dashboard(self, request: Request) -> HTMLResponse:
        manager = self.signed_in(request, {Role.MANAGER, Role.ADMIN})
        figures = self.exchange.dashboard.decision_figures(manager)
        since_start = _decision_counters(self.registry)
        chart = {
            "hours": [b.strftime("%H:00") for b in figures.buckets],
            "permits": figures.permits,
            "refusals": figures.refusals,
            "reasons": dict(figures.by_reason.most_common()),
            "agreements": {str(k): dict(v) for k, v in sorted(figures.by_agreement.items())},
        }
        # Tell-us-once deliveries: the figures /metrics exposes (DeliveryCollector).
        deliveries = self.exchange.dashboard.delivery_figures(manager)
        chart["deliveries"] = {r.receiver_id: {"p50": r.p50_seconds, "p99": r.p99_seconds,
                                               **r.counts} for r in deliveries.receivers}
        return self.render(request, "manager/dashboard.html", figures=figures, chart=chart,
                           since_start=since_start, deliveries=deliveries)


def _decision_counters(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    """onceonly_decisions_total by (outcome, reason), exactly as /metrics shows it."""
    counts: dict[tuple[str, str], float] = {}
    for family in registry.collect():  # the request figures only: nothing read from the database
        if family.name != "onceonly_decisions":
            continue
        for sample in family.samples:
            if sample.name == "onceonly_decisions_total":
                key = (sample.labels["outcome"], sample.labels["reason"])
                counts[key] = sample.value
    return counts
