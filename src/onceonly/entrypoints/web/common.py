"""What every portal's pages share that is not the page machinery itself (portal.py): how a
refusal maps to an HTTP status, how a form field is read, whether htmx asked."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from onceonly.domain.errors import DomainError, ErrorKind

HTTP_STATUS = {ErrorKind.INVALID: 422, ErrorKind.UNAUTHENTICATED: 401,
               ErrorKind.FORBIDDEN: 403, ErrorKind.NOT_FOUND: 404, ErrorKind.CONFLICT: 409,
               ErrorKind.LIMITED: 429, ErrorKind.GONE: 410}
MAX_REASON = 500
NO_REASON = "say why: every decision is recorded with its reason"


def http_status(error: DomainError) -> int:
    """The status a page refused for `error` answers with."""
    return HTTP_STATUS[error.kind]


def form_text(form: Any, name: str, limit: int = MAX_REASON) -> str:
    """A form field as text: stripped, at most `limit` characters, empty if absent."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (it wants a partial, not a whole page)."""
    return request.headers.get("HX-Request") == "true"


def sentence(text: str) -> str:
    """A service's detail as a sentence: capitalised (the rest untouched), one full stop."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")
