"""Tell us once as GOV.UK question pages: which pages a change asks, in what order, what each
asks and how a typed answer is read; and the answers kept between the pages.

The answers travel in a cookie signed by the exchange's forms key and bound to the sign-in
session (the digest of its id), so any server process reads them, no other session can use
them, and a changed cookie is simply ignored. It lives for the sign-in session at most, is
sent only to the tell-us-once pages, and is cleared once the change is sent."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from onceonly.domain.addresses import MAX_ADDRESS, address_text, uk_postcode
from onceonly.entrypoints.web.common import form_text
from onceonly.entrypoints.web.i18n import N_
from onceonly.entrypoints.web.security import CSRF_MAX_AGE, cookie_secure, session_id

START = "/citizen/tell-us-once"
ANSWERS_COOKIE = "onceonly_tell_us_once"
WHAT, TELL, CHECK = "what", "tell", "check"
ADDRESS_FIELD = "new_address"  # asked as address lines and a postcode
ADDRESS_PARTS = ("line1", "line2", "town", "postcode")
MAX_VALUE = 200  # the event schemas' longest string

# The question each page asks, by event type and field; else the field's description.
QUESTIONS = {
    ("gov.onceonly.name.changed", "new_full_name"): N_("What is your new name?"),
    ("gov.onceonly.name.changed", "previous_full_name"): N_("What name did you use before?"),
    ("gov.onceonly.name.changed", "effective_date"): N_(
        "When did you start using your new name?"),
    ("gov.onceonly.address.changed", ADDRESS_FIELD): N_("What is your new address?"),
    ("gov.onceonly.address.changed", "effective_date"): N_("When did you move?"),
}
HINTS = {
    "new_full_name": N_("Your full name, as you use it now."),
    "previous_full_name": N_("Leave this empty if you would rather not say."),
}
MISSING = {
    "new_full_name": N_("Enter your new name"),
    "effective_date": N_("Enter the date"),
}
ANSWER_THIS = N_("Answer this question")
TOO_LONG = N_("Your answer must be 200 characters or fewer")
CHOOSE_TYPE = N_("Select what has changed")
DATE_PARTS_MISSING = N_("The date must include a day, a month and a year")
DATE_NOT_REAL = N_("Enter a real date, for example 27 3 2026")
ADDRESS_ERRORS = {
    "line1": N_("Enter the first line of the address, such as the house and street"),
    "town": N_("Enter the town or city"),
    "postcode": N_("Enter the postcode"),
    "postcode_form": N_("Enter a real UK postcode, such as NT2 4BB"),
    "too_long": N_("The address must be 200 characters or fewer"),
}


@dataclass
class Answers:
    """What the citizen has answered so far."""

    type: str = ""
    values: dict[str, str] = field(default_factory=dict)
    address: dict[str, str] = field(default_factory=dict)
    told: list[str] | None = None  # None: not asked yet (everyone will be ticked)
    answered: list[str] = field(default_factory=list)

    def answer(self, step: str) -> None:
        if step not in self.answered:
            self.answered.append(step)


def steps(schema: dict[str, Any]) -> list[str]:
    """The pages of a change, in order: what changed, one per field, whom to tell, check."""
    return [WHAT, *schema["properties"], TELL, CHECK]


def first_unanswered(answers: Answers, schema: dict[str, Any]) -> str:
    return next(s for s in steps(schema) if s == CHECK or s not in answers.answered)


def previous_step(step: str, schema: dict[str, Any] | None) -> str | None:
    """The page before `step` (the back link), None before the first."""
    order = steps(schema) if schema else [WHAT]
    at = order.index(step) if step in order else 0
    return order[at - 1] if at > 0 else None


def next_step(step: str, schema: dict[str, Any]) -> str:
    order = steps(schema)
    return order[order.index(step) + 1]


def step_url(step: str) -> str:
    return START if step == WHAT else f"{START}/{step}"


# -- reading an answer ---------------------------------------------------------------------

def read_text(form: Any, name: str, required: bool) -> tuple[str, str | None]:
    """A typed answer and what is wrong with it (None: nothing)."""
    raw = form.get(f"data-{name}")
    value = raw.strip() if isinstance(raw, str) else ""
    if not value and required:
        return "", MISSING.get(name, ANSWER_THIS)
    if len(value) > MAX_VALUE:
        return value[:MAX_VALUE], TOO_LONG
    return value, None


def read_date(form: Any, name: str, required: bool) -> tuple[str, str | None]:
    """A date typed as day, month and year (GOV.UK's date input) as an ISO date; what is
    wrong with it when it is not a real date."""
    day, month, year = (form_text(form, f"data-{name}-{part}", 10)
                        for part in ("day", "month", "year"))
    if not (day or month or year):
        return "", MISSING.get(name, ANSWER_THIS) if required else None
    if not (day and month and year):
        return "", DATE_PARTS_MISSING
    try:
        if len(year) != 4:
            raise ValueError(year)
        return date(int(year), int(month), int(day)).isoformat(), None
    except ValueError:
        return "", DATE_NOT_REAL


def read_address(form: Any) -> tuple[dict[str, str], dict[str, str]]:
    """The address's parts as typed (the postcode as it is written) and, by part, what is
    wrong with them."""
    parts = {part: form_text(form, f"address-{part}", MAX_VALUE) for part in ADDRESS_PARTS}
    errors = {part: ADDRESS_ERRORS[part] for part in ("line1", "town", "postcode")
              if not parts[part]}
    if parts["postcode"]:
        written = uk_postcode(parts["postcode"])
        if written is None:
            errors["postcode"] = ADDRESS_ERRORS["postcode_form"]
        else:
            parts["postcode"] = written
    if not errors and len(address_of(parts)) > MAX_ADDRESS:
        errors["line1"] = ADDRESS_ERRORS["too_long"]
    return parts, errors


def address_of(parts: dict[str, str]) -> str:
    return address_text([parts.get("line1", ""), parts.get("line2", ""),
                         parts.get("town", "")], parts.get("postcode", ""))


# -- keeping the answers between pages ------------------------------------------------------

class AnswersCookie:
    def __init__(self, secret: bytes) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="onceonly-tell-us-once")

    @staticmethod
    def _binding(request: Request) -> str:
        return hashlib.sha256((session_id(request) or "").encode()).hexdigest()

    def read(self, request: Request) -> Answers:
        """The answers kept for this session; none if there are none, or they were signed
        for another session, or changed, or are too old."""
        kept = request.cookies.get(ANSWERS_COOKIE)
        if not kept:
            return Answers()
        try:
            bound, answers = self.serializer.loads(kept, max_age=CSRF_MAX_AGE)
            if bound != self._binding(request):
                return Answers()
            return Answers(**answers)
        except (BadSignature, TypeError, ValueError):
            return Answers()

    def keep(self, request: Request, response: Response, answers: Answers) -> None:
        kept = self.serializer.dumps([self._binding(request), answers.__dict__])
        response.set_cookie(ANSWERS_COOKIE, kept, max_age=CSRF_MAX_AGE, path=START,
                            httponly=True, samesite="lax", secure=cookie_secure(request))

    @staticmethod
    def forget(request: Request, response: Response) -> None:
        response.delete_cookie(ANSWERS_COOKIE, path=START, httponly=True, samesite="lax",
                               secure=cookie_secure(request))
