"""The citizen's language: which one pages are shown in after sign-in, which one is kept
with their account, and which one organisations should answer them in."""

from __future__ import annotations

import pytest

from onceonly.domain.errors import DomainError
from onceonly.domain.languages import (
    SignInLanguage,
    answer_language,
    check_language,
    language_at_sign_in,
)


def test_a_first_sign_in_keeps_the_language_the_page_was_in():
    assert language_at_sign_in(None, None, "cy") == SignInLanguage(show=None, keep="cy")
    assert language_at_sign_in(None, None, "en") == SignInLanguage(show=None, keep="en")


def test_a_first_sign_in_keeps_the_language_chosen_on_the_pages_over_the_browsers():
    assert language_at_sign_in("cy", None, "en") == SignInLanguage(show=None, keep="cy")


def test_a_later_sign_in_shows_the_kept_language_when_none_was_chosen():
    assert language_at_sign_in(None, "cy", "en") == SignInLanguage(show="cy", keep=None)


def test_a_language_just_chosen_wins_over_the_kept_one_and_leaves_it_kept():
    assert language_at_sign_in("en", "cy", "en") == SignInLanguage(show=None, keep=None)


def test_a_kept_language_the_service_no_longer_speaks_is_replaced():
    assert language_at_sign_in(None, "fr", "cy") == SignInLanguage(show=None, keep="cy")


def test_organisations_answer_in_the_kept_language_else_english():
    assert answer_language("cy") == "cy"
    assert answer_language(None) == "en"
    assert answer_language("fr") == "en"


def test_only_english_and_welsh_are_kept():
    assert check_language("cy") == "cy"
    with pytest.raises(DomainError) as refused:
        check_language("fr")
    assert refused.value.code == "language_unsupported"
