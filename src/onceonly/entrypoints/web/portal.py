"""The machinery every portal's pages use: rendering a page (with its navigation, CSRF token
and security headers), finding who is asking from the session cookie, and reading a posted
form once its CSRF token is checked."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    pass_context,
)
from jinja2.runtime import Context

from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Principal, Role
from onceonly.entrypoints.http_status import http_status
from onceonly.entrypoints.web import i18n, plain, refusals
from onceonly.entrypoints.web.common import is_htmx
from onceonly.entrypoints.web.nav import nav_for
from onceonly.entrypoints.web.security import (
    SECURITY_HEADERS,
    Csrf,
    clear_session_cookie,
    session_id,
)
from onceonly.services.accounts import AccountService

TEMPLATES = Path(__file__).parent / "templates"


def page_templates() -> Environment:
    """Our templates, with GOV.UK Frontend's Jinja macros under `govuk_frontend_jinja/`,
    gettext (`_`, `{% trans %}`; each page is given its language's catalogue) and the
    filters that write dates and numbers for the page's language."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES), PrefixLoader(
            {"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")})]),
        autoescape=True, extensions=["jinja2.ext.i18n", "jinja2.ext.do"])
    env.install_null_translations()  # pages are given their own in their context
    env.filters.update(sentence=plain.said, when=_when, day=_day, number=_number,
                       field_label=plain.field_label, written_date=_written_date)
    env.globals.update(explain=refusals.explain, in_words=plain.in_words, officer=plain.officer,
                       alert_words=plain.alert_words,
                       LEGAL_BASES=plain.LEGAL_BASES, REFUSALS=refusals.REFUSALS,
                       ALERT_RULES=plain.ALERT_RULES,
                       DELIVERY_STATES=plain.DELIVERY_STATES, TRANSFORMS=plain.TRANSFORMS,
                       COMPARED_FIELDS=plain.COMPARED_FIELDS,
                       COMPARISON_LEVELS=plain.COMPARISON_LEVELS,
                       ALERT_EVIDENCE=plain.ALERT_EVIDENCE,
                       AGREEMENT_STATES=plain.AGREEMENT_STATES,
                       languages=i18n.NAMES, organisation_name=str)
    return env


@pass_context
def _when(context: Context, moment: datetime | str) -> str:
    if isinstance(moment, str):  # a moment kept as ISO text (an alert's evidence)
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    return i18n.when(moment, context.get("lang", i18n.DEFAULT))


@pass_context
def _day(context: Context, moment: datetime) -> str:
    return i18n.day(moment, context.get("lang", i18n.DEFAULT))


@pass_context
def _written_date(context: Context, text: str) -> str:
    return i18n.written_date(text, context.get("lang", i18n.DEFAULT))


@pass_context
def _number(context: Context, value: float) -> str:
    return i18n.number(value, context.get("lang", i18n.DEFAULT))


class PageRefused(Exception):
    """Raised by a page that must answer with another page (sign in; not for you)."""

    def __init__(self, response: Response) -> None:
        self.response = response


class Portal:
    """`forms_key`: the key that signs the forms' CSRF tokens, asked for on first use (the
    database holds it, so only once it is migrated). `brand`: the service runs on a gov.uk
    domain, so its pages may carry the GOV.UK crown and typeface."""

    def __init__(self, accounts: AccountService, forms_key: Callable[[], bytes],
                 sign_in_options: Callable[[], dict[str, Any]] = dict, *,
                 brand: bool = False,
                 organisation_names: Callable[[], Mapping[str, str]] = dict) -> None:
        self.accounts = accounts
        self.brand = brand
        self.names = plain.OrganisationNames(organisation_names)
        self.forms_key = forms_key
        self.sign_in_options = sign_in_options  # the ways to sign in the sign-in page offers
        self.templates = Jinja2Templates(env=page_templates())
        self._csrf: Csrf | None = None

    @property
    def csrf(self) -> Csrf:
        if self._csrf is None:
            self._csrf = Csrf(self.forms_key())
        return self._csrf

    # -- rendering --------------------------------------------------------------------------

    def render(self, request: Request, template: str, status: int = 200,
               **context: Any) -> HTMLResponse:
        principal = getattr(request.state, "web_principal", None)
        context.update(self.bare_context(request), principal=principal,
                       nav=nav_for(principal), csrf_token=self.csrf.token(request))
        response = self.templates.TemplateResponse(request, template, context,
                                                   status_code=status)
        self.csrf.remember_visitor(request, response)
        response.headers.update(SECURITY_HEADERS)
        return response

    def bare_context(self, request: Request) -> dict[str, Any]:
        """What the layout needs of any page, even one drawn without the database (an error
        page): its language and catalogue, and no one signed in."""
        language = i18n.language_of(request)
        messages = i18n.translations(language)
        return {"lang": language, "gettext": messages.gettext, "ngettext": messages.ngettext,
                "_": messages.gettext, "brand": self.brand, "path": request.url.path,
                "principal": None, "nav": [], "csrf_token": "",
                "organisation_name": self.names.name}

    def refused_page(self, request: Request, error: DomainError) -> HTMLResponse:
        return self.render(request, "refused.html", http_status(error), error=error)

    def sign_in_page(self, request: Request, status: int = 200,
                     **context: Any) -> HTMLResponse:
        return self.render(request, "sign_in.html", status,
                           **(self.sign_in_options() | context))

    # -- the citizen's language -------------------------------------------------------------

    def keep_language(self, request: Request, language: str) -> None:
        """A signed-in citizen's switch of language is kept with their account."""
        with contextlib.suppress(DomainError):  # not signed in: the cookie alone keeps it
            self.accounts.choose_language(self.accounts.session(session_id(request)),
                                          language)

    def show_kept_language(self, request: Request, response: Response,
                           principal: Principal) -> None:
        """On signing in, a citizen's pages turn to the language kept with their account,
        unless they have just chosen one (a first sign-in keeps the page's language)."""
        show = self.accounts.language_at_sign_in(principal, i18n.chosen_language(request),
                                                 i18n.language_of(request))
        if show is not None:
            i18n.remember_language(request, response, show)

    # -- who is asking ----------------------------------------------------------------------

    def signed_in(self, request: Request, roles: Iterable[Role]) -> Principal:
        """The principal of the request's session, with one of `roles`; else the sign-in
        page (no, forged, expired or ended session) or a refusal (another role's page)."""
        try:
            principal = self.accounts.session(session_id(request))
        except DomainError as refused:
            response = (self.render(request, "_session_refused.html", 401, error=refused)
                        if is_htmx(request) else
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
