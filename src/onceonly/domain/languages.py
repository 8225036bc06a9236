"""The languages the service speaks (English and Welsh), and which one a citizen is answered
in: the one kept with their account, chosen on its pages."""

from __future__ import annotations

from dataclasses import dataclass

from onceonly.domain.errors import invalid

LANGUAGES = ("en", "cy")  # BCP 47 tags, as pages' `lang` and notifications carry them
DEFAULT = "en"


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise invalid("language_unsupported",
                      f"the service speaks {' and '.join(LANGUAGES)}, not {language[:16]!r}")
    return language


def answer_language(kept: str | None) -> str:
    """The language an organisation should answer a citizen in: the one they chose, else
    English (notifications carry it as their `language` attribute)."""
    return kept if kept in LANGUAGES else DEFAULT


@dataclass(frozen=True, slots=True)
class SignInLanguage:
    """At sign-in: the language to show pages in from now (None: as they are), and the one to
    keep with the account (None: keep what is kept)."""

    show: str | None
    keep: str | None


def language_at_sign_in(chosen: str | None, kept: str | None, page: str) -> SignInLanguage:
    """`chosen`: the language the person chose on the pages before signing in, if they did;
    `kept`: the one kept with their account; `page`: the one the sign-in page was shown in.
    A first sign-in keeps the page's language; later, a kept language is shown unless the
    person has just chosen one."""
    if kept not in LANGUAGES:
        return SignInLanguage(None, chosen if chosen in LANGUAGES else check_language(page))
    if chosen in LANGUAGES:
        return SignInLanguage(None, None)
    return SignInLanguage(kept, None)
