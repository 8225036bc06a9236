"""The pages' session cookie and their CSRF tokens.

The session cookie holds a random id (the exchange stores only its digest): HttpOnly,
SameSite=Lax, and Secure whenever the browser is not on this very machine: a page served
over https, or to any other address, sets it Secure, so a browser never sends it in clear
over a network; only a browser on the loopback address talking plain http (the demo, the
tests) gets it without, as that traffic never leaves the machine.

Every form carries a CSRF token (signed double-submit, itsdangerous): a signature, by a
secret the exchange keeps in its database, of the digest of the session id, or before
signing in, of a random visitor cookie. A form from another site cannot carry it.

A form may carry back what its page showed (`Csrf.carry`), signed the same way under
another salt and bound to the same session: it comes back only as it was sent, to whom
it was sent, so the page shown after the form need not read it again.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from onceonly.domain.errors import DomainError, forbidden
from onceonly.domain.sign_in import SESSION_LIFETIME

SESSION_COOKIE = "onceonly_session"
VISITOR_COOKIE = "onceonly_visitor"
CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE = int(SESSION_LIFETIME.total_seconds())


def client_address(request: Request) -> str | None:
    """The peer's address; behind a trusted proxy, the client's it forwarded (the app's
    ProxyHeadersMiddleware, ONCEONLY_TRUSTED_PROXIES)."""
    return request.client.host if request.client else None


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cookie_secure(request: Request) -> bool:
    return request.url.scheme == "https" or not _loopback(client_address(request))


def _cookie(response: Response, request: Request, name: str, value: str,
            max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True,
                        samesite="lax", secure=cookie_secure(request))


def set_session_cookie(response: Response, request: Request, session_id: str) -> None:
    _cookie(response, request, SESSION_COOKIE, session_id, CSRF_MAX_AGE)


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=cookie_secure(request))


def session_id(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


class Csrf:
    def __init__(self, secret: bytes) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="onceonly-web-csrf")
        self.carrier = URLSafeTimedSerializer(secret, salt="onceonly-web-carried")

    @staticmethod
    def _binding(request: Request) -> str:
        """What the token is bound to: the session if there is one, else the visitor."""
        bound = session_id(request) or request.cookies.get(VISITOR_COOKIE)
        if bound is None:  # first visit: a visitor cookie is set with this page
            bound = request.state.new_visitor = getattr(
                request.state, "new_visitor", None) or secrets.token_urlsafe(32)
        return hashlib.sha256(bound.encode()).hexdigest()

    def token(self, request: Request) -> str:
        return str(self.serializer.dumps(self._binding(request)))

    def check(self, request: Request, form: Any) -> None:
        """Refuse a form whose token is missing, forged, stale or someone else's."""
        token = form.get(CSRF_FIELD)
        if not isinstance(token, str) or not token:
            raise forbidden("csrf_missing", "this form has no CSRF token; reload the page and "
                                            "send it again")
        try:
            bound = self.serializer.loads(token, max_age=CSRF_MAX_AGE)
        except BadSignature:
            raise csrf_invalid() from None
        if not isinstance(bound, str) or not hmac.compare_digest(bound, self._binding(request)):
            raise csrf_invalid()

    def carry(self, request: Request, shown: Any) -> str:
        """`shown` (JSON), signed and bound to this session, for a form's hidden field."""
        return str(self.carrier.dumps([self._binding(request), shown]))

    def carried(self, request: Request, sealed: str) -> Any | None:
        """What `carry` sealed for this session, or None: missing, altered, stale or
        someone else's."""
        try:
            bound, shown = self.carrier.loads(sealed, max_age=CSRF_MAX_AGE)
        except (BadSignature, ValueError, TypeError):
            return None
        if not isinstance(bound, str) or not hmac.compare_digest(bound, self._binding(request)):
            return None
        return shown

    @staticmethod
    def remember_visitor(request: Request, response: Response) -> None:
        new = getattr(request.state, "new_visitor", None)
        if new is not None:
            _cookie(response, request, VISITOR_COOKIE, new, None)


def csrf_invalid() -> DomainError:
    return forbidden("csrf_invalid", "this form's CSRF token is not valid for your session; "
                                     "reload the page and send it again")


SECURITY_HEADERS = {
    # Everything the pages use is served from here: vendored scripts and styles, no inline
    # script; Pico's icons are data: URIs.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
