"""Checking an entry of "who accessed my data" in the citizen's own browser, not by the
exchange vouching for itself: the page's script (static/verify.js) fetches the entry (here,
for the signed-in citizen only), its RFC 9162 inclusion proof, the signed tree head and the
log operator's public keys (the public API), and verifies the proof (SHA-256) and the head's
signature (Ed25519) with the browser's Web Crypto."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from onceonly.audit.entries import EntryUnreadable
from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Role
from onceonly.entrypoints.http_status import http_status
from onceonly.entrypoints.web.portal import Portal
from onceonly.entrypoints.web.security import SECURITY_HEADERS
from onceonly.services.audit import AuditService

CITIZEN = {Role.CITIZEN}


class VerifyInBrowserPages:
    def __init__(self, portal: Portal, audit: AuditService) -> None:
        self.portal = portal
        self.audit = audit

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        router.add_api_route("/citizen/access/{index}/check", self.check_page, methods=["GET"])
        router.add_api_route("/citizen/access/{index}/entry.json", self.entry,
                             methods=["GET"])
        return router

    def check_page(self, request: Request, index: int) -> HTMLResponse:
        self.portal.signed_in(request, CITIZEN)
        return self.portal.render(request, "citizen/check_in_browser.html", index=index,
                                  log_org=self.audit.operator_org)

    def entry(self, request: Request, index: int) -> JSONResponse:
        """The entry as the log holds it: its JSON and the exact bytes of its leaf."""
        citizen = self.portal.signed_in(request, CITIZEN)
        try:
            record = self.audit.entry(citizen, index)
        except EntryUnreadable as unreadable:
            return _json(500, {"code": "entry_unreadable", "detail": str(unreadable)})
        except DomainError as refused:
            return _json(http_status(refused), {"code": refused.code,
                                                "detail": refused.detail})
        return _json(200, {"index": record.index, "entry": record.as_json(),
                           "leaf": base64.b64encode(record.leaf()).decode(),
                           "log_org": self.audit.operator_org})


def _json(status: int, body: dict[str, object]) -> JSONResponse:
    response = JSONResponse(body, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response
