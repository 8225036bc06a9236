"""Signing in through an identity provider: staff through their organisation's OpenID
provider, citizens through GOV.UK One Login: the redirect there, the callback, and a page
saying in words why a sign-in was refused (or, for a citizen whose record waits to be
confirmed, what happens next)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onceonly.domain.errors import DomainError
from onceonly.entrypoints.http_status import http_status
from onceonly.entrypoints.web.nav import home_for
from onceonly.entrypoints.web.portal import Portal
from onceonly.entrypoints.web.security import (
    cookie_secure,
    session_id,
    set_session_cookie,
)
from onceonly.services.single_sign_on import ATTEMPT_LIFETIME, SingleSignOnService, Started

ATTEMPT_COOKIE = "onceonly_sign_in_attempt"
CALLBACK = "/sign-in/callback"


def sign_in_options(single_sign_on: SingleSignOnService) -> dict[str, object]:
    """What the sign-in page offers: the organisations that registered a provider."""
    return {"identity_providers": single_sign_on.providers(),
            "one_login": single_sign_on.one_login is not None,
            "password_sign_in": single_sign_on.accounts.passwords()}


class SingleSignOnPages:
    def __init__(self, portal: Portal, single_sign_on: SingleSignOnService) -> None:
        self.portal = portal
        self.single_sign_on = single_sign_on

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        router.add_api_route("/sign-in/organisation/{org_id:path}", self.start_staff,
                             methods=["GET"])
        router.add_api_route("/sign-in/one-login", self.start_citizen, methods=["GET"])
        router.add_api_route(CALLBACK, self.callback, methods=["GET"])
        return router

    @staticmethod
    def redirect_uri(request: Request) -> str:
        return str(request.base_url).rstrip("/") + CALLBACK

    def refused(self, request: Request, error: DomainError) -> HTMLResponse:
        response = self.portal.render(request, "sign_in_refused.html", http_status(error),
                                      error=error)
        response.delete_cookie(ATTEMPT_COOKIE, path=CALLBACK)
        return response

    def start_staff(self, request: Request, org_id: str) -> Response:
        """A link, not a form: the pages' forms may post only to the exchange, and this
        goes on to the provider. Starting a sign-in changes nothing but the browser's own
        attempt; the provider's answer must come back to that attempt."""
        try:
            started = self.single_sign_on.begin(org_id, self.redirect_uri(request))
        except DomainError as refused:
            return self.refused(request, refused)
        return self.to_provider(request, started)

    def start_citizen(self, request: Request) -> Response:
        try:
            started = self.single_sign_on.begin_citizen(self.redirect_uri(request))
        except DomainError as refused:
            return self.refused(request, refused)
        return self.to_provider(request, started)

    @staticmethod
    def to_provider(request: Request, started: Started) -> Response:
        """To the provider, the browser holding the attempt's id for the callback (Lax: a
        top-level navigation back from the provider carries it)."""
        response = RedirectResponse(started.url, status_code=303)
        response.set_cookie(ATTEMPT_COOKIE, started.attempt_id, path=CALLBACK,
                            max_age=int(ATTEMPT_LIFETIME.total_seconds()), httponly=True,
                            samesite="lax", secure=cookie_secure(request))
        return response

    def callback(self, request: Request) -> Response:
        params = {key: value for key, value in request.query_params.items()
                  if isinstance(value, str)}
        attempt_id = request.cookies.get(ATTEMPT_COOKIE)
        try:
            signed_in, _id_token = self.single_sign_on.complete(
                attempt_id, params, self.redirect_uri(request))
        except DomainError as refused:
            return self.refused(request, refused)
        previous = session_id(request)
        if previous:  # signing in again (as someone else, say) ends the session before
            self.portal.accounts.sign_out(previous)
        response = RedirectResponse(home_for(signed_in.principal), status_code=303)
        set_session_cookie(response, request, signed_in.session_id)
        self.portal.show_kept_language(request, response, signed_in.principal)
        response.delete_cookie(ATTEMPT_COOKIE, path=CALLBACK)
        return response
