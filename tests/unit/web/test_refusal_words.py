"""Every refusal a page shows is a sentence in the page's language, with its code in small
print: each reason code with an English sentence (web/refusals.py REFUSALS) has a Welsh one,
the refusal pages (the portals' own and signing in's) show it on a Welsh page, and a page's
own words beside a field are translated whole."""

from __future__ import annotations

from typing import Any

import pytest

from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.reasons import Reason
from onceonly.entrypoints.web import i18n
from onceonly.entrypoints.web.plain import words
from onceonly.entrypoints.web.portal import page_templates
from onceonly.entrypoints.web.refusals import REFUSALS
from onceonly.services.accounts import SESSION_REFUSAL_CODES

WELSH = i18n.translations("cy")
TEMPLATES = page_templates()


def page(template: str, language: str, **context: Any) -> str:
    messages = i18n.translations(language)
    return TEMPLATES.get_template(template).render({
        "lang": language, "_": messages.gettext, "gettext": messages.gettext,
        "ngettext": messages.ngettext, "brand": False, "path": "/", "principal": None,
        "nav": [], "csrf_token": "", "organisation_name": str, **context})


def test_every_reason_the_domain_and_sign_in_give_has_a_sentence():
    codes = {r.value for r in Reason} | SESSION_REFUSAL_CODES
    assert codes - REFUSALS.keys() == set()


@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_each_reason_with_an_english_sentence_has_a_welsh_one(code: str):
    english = REFUSALS[code]
    welsh = WELSH.gettext(english)
    assert welsh != english, f"{code}: no Welsh for {english!r}"


@pytest.mark.parametrize("template", ["refused.html", "sign_in_refused.html"])
@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_a_welsh_refusal_page_says_why_in_welsh_with_the_code_in_small_print(
        template: str, code: str):
    error = DomainError(ErrorKind.FORBIDDEN, code, "the service's own English detail")
    html = page(template, "cy", error=error)
    sentence = WELSH.gettext(REFUSALS[code])
    assert sentence.replace("'", "&#39;") in html
    assert "English detail" not in html
    assert f"<code>{code}</code>" in html


def test_a_code_without_a_sentence_still_shows_its_detail():
    error = DomainError(ErrorKind.INVALID, "something_new", "something new went wrong")
    assert "Something new went wrong." in page("refused.html", "cy", error=error)


def test_a_pages_own_words_beside_a_field_are_translated_whole():
    template = TEMPLATES.from_string("{{ said|sentence }}")
    render = lambda said, language: template.render(  # noqa: E731
        said=said, _=i18n.translations(language).gettext, lang=language)
    assert render("enter your login", "cy") == "Rhowch eich enw mewngofnodi."
    assert render("enter your login", "en") == "Enter your login."
    assert render(words("Challenge %(number)s rejected.", number=7), "cy") == \
        "Gwrthodwyd her 7."
    refused = DomainError(ErrorKind.CONFLICT, "already_decided", "the extract is approved")
    assert render(refused, "cy") == "Mae hyn wedi&#39;i benderfynu&#39;n barod."


def slowed(seconds: int, second_factor_open: bool = True) -> DomainError:
    """A sign-in refused for a while, as SignInClosed carries it."""
    error = DomainError(ErrorKind.LIMITED, "sign_in_slowed", "Too many failed sign-ins.")
    error.retry_after = seconds  # type: ignore[attr-defined]
    error.second_factor_open = second_factor_open  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(("seconds", "language", "said"), [
    (1, "en", "Try again in 1 second."),
    (30, "en", "Try again in 30 seconds."),
    (900, "en", "Try again in 15 minutes."),
    (2, "cy", "Rhowch gynnig arall arni ymhen 2 eiliad."),
    (30, "cy", "Rhowch gynnig arall arni ymhen 30 eiliad."),
    (900, "cy", "Rhowch gynnig arall arni ymhen 15 munud."),
])
def test_a_refusal_to_wait_says_how_long_in_the_pages_language(seconds: int, language: str,
                                                                said: str):
    html = page("refused.html", language, error=slowed(seconds))
    assert said in html
    assert "<code>sign_in_slowed</code>" in html


@pytest.mark.parametrize(("language", "offered"), [
    ("en", "you can sign in now with your password and the code"),
    ("cy", "gallwch fewngofnodi nawr gyda&#39;ch cyfrinair a&#39;r cod"),
])
def test_the_second_factor_is_offered_only_while_it_is_open(language: str, offered: str):
    assert offered in page("refused.html", language, error=slowed(30))
    assert offered not in page("refused.html", language,
                               error=slowed(30, second_factor_open=False))


@pytest.mark.parametrize(("language", "said"), [
    ("en", "HM Revenue and Customs holds no record of the person."),
    ("cy", "Nid oes gan HM Revenue and Customs gofnod o&#39;r unigolyn."),
])
def test_a_refusal_naming_an_organisation_names_it_in_the_pages_language(language: str,
                                                                         said: str):
    error = DomainError(ErrorKind.NOT_FOUND, "record_unknown", "GOV/HMRC holds no record",
                        org_id="GOV/HMRC")
    html = page("refused.html", language, error=error,
                organisation_name={"GOV/HMRC": "HM Revenue and Customs"}.get)
    assert said in html
    assert "<code>record_unknown</code>" in html


def test_a_refusal_without_its_value_keeps_its_general_sentence():
    error = DomainError(ErrorKind.NOT_FOUND, "record_unknown", "no record")
    assert "The organisation holds no record of the person." in page("refused.html", "en",
                                                                     error=error)
