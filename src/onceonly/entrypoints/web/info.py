"""The pages every service has beside its portals: the accessibility statement, the privacy
notice, the cookies page, the language toggle, the API's documentation (from vendored
Swagger UI and Redoc), and HTML pages for the errors a browser meets (an API client keeps
its problem JSON)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onceonly.entrypoints.web import i18n
from onceonly.entrypoints.web.portal import Portal
from onceonly.entrypoints.web.security import SECURITY_HEADERS

# The API documentation's scripts style the page from script (Swagger UI, Redoc's styled
# components) and Redoc searches in a worker it makes from a blob: still no inline script.
DOCS_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
               "base-uri 'none'")


class InfoPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        for path, template in (("/accessibility", "info/accessibility.html"),
                               ("/privacy", "info/privacy.html"),
                               ("/cookies", "info/cookies.html")):
            router.add_api_route(path, self._page(template), methods=["GET"])
        router.add_api_route("/language/{language}", self.choose_language, methods=["GET"])
        router.add_api_route("/docs", self.swagger, methods=["GET"])
        router.add_api_route("/redoc", self.redoc, methods=["GET"])
        return router

    def _page(self, template: str) -> Any:
        def page(request: Request) -> HTMLResponse:
            return self.portal.render(request, template)
        return page

    def choose_language(self, request: Request, language: str, back: str = "/") -> Response:
        """Remembers the choice in a cookie (no account needed) and goes back to the page it
        was made on (only a path of this site: never an open redirect)."""
        target = urlsplit(back)
        local = back.startswith("/") and not back.startswith("//") and not target.netloc
        response = RedirectResponse(back if local else "/", status_code=303)
        if language in i18n.LANGUAGES:
            i18n.remember_language(request, response, language)
            self.portal.keep_language(request, language)
        return response

    def swagger(self, request: Request) -> HTMLResponse:
        return self._docs(request, "info/swagger.html")

    def redoc(self, request: Request) -> HTMLResponse:
        return self._docs(request, "info/redoc.html")

    def _docs(self, request: Request, template: str) -> HTMLResponse:
        response = self.portal.templates.TemplateResponse(
            request, template, {"lang": i18n.language_of(request)})
        response.headers.update(SECURITY_HEADERS)
        response.headers["Content-Security-Policy"] = DOCS_POLICY
        return response


def wants_html(scope: Scope) -> bool:
    """A browser's page request: it asks for HTML first, and not of the API's own paths."""
    accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
    return scope["type"] == "http" and accept.startswith("text/html") and \
        not scope["path"].startswith(("/v1/", "/.well-known/"))


class BrowserErrors:
    """For a browser, an error the API answers as problem JSON (no such page, a method the
    page does not take, a fault) becomes an HTML page with the same status; API clients
    are answered as before."""

    PAGES = {404: "errors/not_found.html", 405: "errors/not_found.html",
             500: "errors/fault.html"}

    def __init__(self, app: ASGIApp, portal: Portal) -> None:
        self.app = app
        self.portal = portal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not wants_html(scope):
            await self.app(scope, receive, send)
            return
        replaced: dict[str, Any] = {}

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                problem = b"json" in headers.get(b"content-type", b"")
                if problem and message["status"] in self.PAGES:
                    replaced["status"] = message["status"]
                    replaced["request_id"] = headers.get(b"x-request-id", b"").decode()
                    return
            elif replaced:
                if not message.get("more_body"):
                    await self._page(scope, replaced)(scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive, watched)

    def _page(self, scope: Scope, replaced: dict[str, Any]) -> Response:
        request = Request(scope)
        response = self.portal.templates.TemplateResponse(
            request, self.PAGES[replaced["status"]],
            {"lang": i18n.language_of(request), "request_id": replaced["request_id"],
             **self.portal.bare_context(request)},
            status_code=replaced["status"])
        response.headers.update(SECURITY_HEADERS)
        if replaced["request_id"]:
            response.headers["X-Request-Id"] = replaced["request_id"]
        return response
