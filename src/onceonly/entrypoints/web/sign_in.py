"""The landing page, signing in (a citizen with a password and perhaps a code; staff with
their API token) and signing out. Each person lands on their own portal's home."""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onceonly.domain.errors import DomainError
from onceonly.domain.sign_in import SignInClosed
from onceonly.entrypoints.http_status import http_status
from onceonly.entrypoints.web.common import form_text
from onceonly.entrypoints.web.i18n import N_
from onceonly.entrypoints.web.nav import home_for
from onceonly.entrypoints.web.portal import Portal
from onceonly.entrypoints.web.security import (
    clear_session_cookie,
    client_address,
    session_id,
    set_session_cookie,
)
from onceonly.services.accounts import AccountService, SignedIn
from onceonly.services.single_sign_on import SingleSignOnService

CODE_FIELDS = {"code_required", "code_invalid"}  # refusals shown beside the code, not password
MISSING = {"login": N_("enter your login"), "password": N_("enter your password")}


class SignInPages:
    def __init__(self, portal: Portal, accounts: AccountService,
                 single_sign_on: SingleSignOnService) -> None:
        self.portal = portal
        self.accounts = accounts
        self.single_sign_on = single_sign_on

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        router.add_api_route("/", self.landing, methods=["GET"])
        router.add_api_route("/sign-in", self.sign_in_form, methods=["GET"])
        router.add_api_route("/sign-in/citizen", self.sign_in_citizen, methods=["POST"])
        router.add_api_route("/sign-in/staff", self.sign_in_staff, methods=["POST"])
        router.add_api_route("/sign-out", self.sign_out, methods=["POST"])
        return router

    def landing(self, request: Request) -> HTMLResponse:
        with contextlib.suppress(DomainError):  # the landing page is for everyone
            request.state.web_principal = self.accounts.session(session_id(request))
        return self.portal.render(request, "landing.html")

    def sign_in_form(self, request: Request) -> HTMLResponse:
        return self.portal.sign_in_page(request, signed_out="signed_out" in request.query_params)

    async def sign_in_citizen(self, request: Request) -> Response:
        form = await self.portal.form(request)
        password = form.get("password")
        password = password if isinstance(password, str) else ""  # as typed: never stripped
        login, code = form_text(form, "login", 64), form_text(form, "code", 16)
        errors = {name: MISSING[name] for name, value in
                  (("login", login), ("password", password)) if not value}
        if errors:
            return self.portal.sign_in_page(request, 422, errors=errors, login=login)
        try:
            signed_in = self.accounts.sign_in(login, password, code or None,
                                              client_address(request))
        except DomainError as refused:
            field = "code" if refused.code in CODE_FIELDS else "password"
            page = self.portal.sign_in_page(request, http_status(refused), login=login,
                                            errors={field: refused},
                                            ask_code=field == "code")
            if isinstance(refused, SignInClosed):
                page.headers["Retry-After"] = str(refused.retry_after)
            return page
        return self._start_session(request, signed_in)

    async def sign_in_staff(self, request: Request) -> Response:
        form = await self.portal.form(request)
        token = form_text(form, "token", 200)
        if not token:
            return self.portal.sign_in_page(request, 422,
                                            errors={"token": N_("paste your API token")})
        try:
            signed_in = self.accounts.sign_in_with_token(token)
        except DomainError as refused:
            return self.portal.sign_in_page(request, http_status(refused),
                                            errors={"token": refused})
        return self._start_session(request, signed_in)

    def _start_session(self, request: Request, signed_in: SignedIn) -> Response:
        previous = session_id(request)
        if previous:  # signing in again (as someone else, say) ends the session before
            self.accounts.sign_out(previous)
        response = RedirectResponse(home_for(signed_in.principal), status_code=303)
        set_session_cookie(response, request, signed_in.session_id)
        self.portal.show_kept_language(request, response, signed_in.principal)
        return response

    async def sign_out(self, request: Request) -> Response:
        await self.portal.form(request)
        current = session_id(request)
        after = str(request.base_url).rstrip("/") + "/sign-in?signed_out=1"
        # Started through an identity provider that offers it: signed out there too.
        elsewhere = self.single_sign_on.sign_out(current, after) if current else None
        # The pages' forms may lead only here (CSP form-action): a page sends the browser on.
        response = (self.portal.render(request, "sign_in_elsewhere.html", url=elsewhere)
                    if elsewhere else RedirectResponse("/sign-in?signed_out=1", status_code=303))
        clear_session_cookie(response, request)
        return response
