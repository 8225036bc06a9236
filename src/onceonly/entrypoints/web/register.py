"""The public register of data-sharing agreements as a page, for anyone (no sign-in): every
agreement in force, its parties, purpose, legal basis, the fields it releases by their
labels, and its dates; in English, or Welsh with `?lang=cy`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from onceonly.entrypoints.web.portal import Portal
from onceonly.services.register import LEGAL_BASIS_WORDS, RegisterService


def page_language(request: Request) -> str:
    """Welsh when asked for (`?lang=cy`, or Welsh first in Accept-Language), else English."""
    asked = request.query_params.get("lang")
    if asked in ("en", "cy"):
        return asked
    accepted = request.headers.get("Accept-Language", "").strip().lower()
    return "cy" if accepted.startswith("cy") else "en"


class RegisterPages:
    def __init__(self, portal: Portal, register: RegisterService) -> None:
        self.portal = portal
        self.register = register

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        router.add_api_route("/register", self.register_page, methods=["GET"])
        return router

    def register_page(self, request: Request) -> HTMLResponse:
        language = page_language(request)
        return self.portal.render(request, "register.html", entries=self.register.in_force(),
                                  language=language, basis_words=LEGAL_BASIS_WORDS)
