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
from onceonly.entrypoints.web.refusals import DAILY_LIMIT_REFUSALS, REFUSALS
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


@pytest.mark.parametrize("english", [*REFUSALS.values(), *DAILY_LIMIT_REFUSALS.values()])
def test_each_reason_with_an_english_sentence_has_a_welsh_one(english: str):
    welsh = WELSH.gettext(english)
    assert welsh != english, f"no Welsh for {english!r}"


@pytest.mark.parametrize("template", ["refused.html", "sign_in_refused.html"])
@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_a_welsh_refusal_page_says_why_in_welsh_with_the_code_in_small_print(
        template: str, code: str):
    error = DomainError(ErrorKind.FORBIDDEN, code, "the service's own English detail")
    html = page(template, "cy", error=error)
    sentence = WELSH.gettext(DAILY_LIMIT_REFUSALS.get(code) or REFUSALS[code])
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


def slowed(seconds: int, second_factor_open: bool = True, code: str = "sign_in_slowed"
           ) -> DomainError:
    """A sign-in refused for a while, as SignInClosed carries it."""
    error = DomainError(ErrorKind.LIMITED, code, "Too many failed sign-ins.")
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


@pytest.mark.parametrize(("seconds", "language", "said"), [
    (1, "en", "signing in with a password alone is locked for 1 second."),
    (45, "en", "signing in with a password alone is locked for 45 seconds."),
    (900, "en", "signing in with a password alone is locked for 15 minutes."),
    (61 * 14, "en", "signing in with a password alone is locked for 15 minutes."),
    (3, "cy", "mewngofnodi gyda chyfrinair yn unig wedi&#39;i gloi am 3 eiliad."),
    (900, "cy", "mewngofnodi gyda chyfrinair yn unig wedi&#39;i gloi am 15 munud."),
])
def test_a_locked_sign_in_says_for_how_long_in_the_pages_language(seconds: int, language: str,
                                                                  said: str):
    html = page("refused.html", language, error=slowed(seconds, code="sign_in_locked"))
    assert said in html
    assert "locked for now" not in html and "wedi&#39;i gloi am y tro" not in html
    assert "<code>sign_in_locked</code>" in html


def test_a_locked_sign_in_without_its_wait_keeps_its_general_sentence():
    error = DomainError(ErrorKind.LIMITED, "sign_in_locked", "Too many failed sign-ins.")
    assert "signing in with a password alone is locked for now." in page(
        "refused.html", "en", error=error)


@pytest.mark.parametrize("code", ["sign_in_slowed", "sign_in_locked"])
@pytest.mark.parametrize(("language", "offered"), [
    ("en", "you can sign in now with your password and the code"),
    ("cy", "gallwch fewngofnodi nawr gyda&#39;ch cyfrinair a&#39;r cod"),
])
def test_the_second_factor_is_offered_only_while_it_is_open(language: str, offered: str,
                                                            code: str):
    assert offered in page("refused.html", language, error=slowed(30, code=code))
    assert offered not in page("refused.html", language,
                               error=slowed(30, second_factor_open=False, code=code))


@pytest.mark.parametrize(("code", "language", "said"), [
    ("quota_exceeded", "en", "The organisation has made as many requests today as its "
                             "agreement allows. It can ask again after midnight UTC, when the "
                             "day&#39;s count starts again."),
    ("person_limit_reached", "en", "It can ask about someone new after midnight UTC, when the "
                                   "day&#39;s count starts again."),
    ("quota_exceeded", "cy", "Gall ofyn eto ar ôl hanner nos UTC, pan fydd cyfrif y dydd yn "
                             "dechrau eto."),
    ("person_limit_reached", "cy", "Gall ofyn am rywun newydd ar ôl hanner nos UTC"),
])
def test_a_daily_limit_refused_now_says_when_asking_opens_again(code: str, language: str,
                                                               said: str):
    error = DomainError(ErrorKind.LIMITED, code, "the agreement allows 100 queries a day")
    html = page("refused.html", language, error=error)
    assert said in html
    assert f"<code>{code}</code>" in html


def test_a_daily_limit_in_a_log_keeps_its_general_sentence():
    """A refusal already past (the access log, the dashboard) says no wait: it is over."""
    template = TEMPLATES.from_string("{{ in_words(reason, REFUSALS) }}")
    said = template.render(reason="quota_exceeded", _=i18n.translations("en").gettext,
                           lang="en")
    assert said == ("The organisation has made as many requests today as its agreement "
                    "allows.")


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
