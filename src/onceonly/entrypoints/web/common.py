"""What every portal's pages share that is not the page machinery itself (portal.py): how a
form field is read, whether htmx asked. (A refusal's status: entrypoints/http_status.py.)"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from onceonly.entrypoints.web.i18n import N_

MAX_REASON = 500
NO_REASON = N_("say why: every decision is recorded with its reason")


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
