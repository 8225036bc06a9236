"""Staff pages show the domain's codes in words: every transform, compared field, alert
evidence key and agreement state has an English phrase in web/plain.py and a Welsh one, and
a Welsh agreement card says what a consumer receives in Welsh, the code in small print."""

from __future__ import annotations

import pytest

from onceonly.domain.agreements import AgreementState
from onceonly.domain.anomaly import RuleKind
from onceonly.domain.identity import COMPARED_FIELDS as DOMAIN_COMPARED_FIELDS
from onceonly.domain.transforms import TRANSFORMS as DOMAIN_TRANSFORMS
from onceonly.entrypoints.web import i18n
from onceonly.entrypoints.web.plain import (
    AGREEMENT_STATES,
    ALERT_EVIDENCE,
    ALERT_RULES,
    COMPARED_FIELDS,
    COMPARISON_LEVELS,
    TRANSFORMS,
)
from onceonly.entrypoints.web.portal import page_templates

WELSH = i18n.translations("cy")
TABLES = {"transforms": TRANSFORMS, "compared fields": COMPARED_FIELDS,
          "comparison levels": COMPARISON_LEVELS, "alert evidence": ALERT_EVIDENCE,
          "agreement states": AGREEMENT_STATES}


def test_every_code_the_domain_gives_has_words():
    assert set(DOMAIN_TRANSFORMS) - TRANSFORMS.keys() == set()
    assert set(DOMAIN_COMPARED_FIELDS) - COMPARED_FIELDS.keys() == set()
    assert {s.value for s in AgreementState} - AGREEMENT_STATES.keys() == set()
    assert {r.value for r in RuleKind} - ALERT_RULES.keys() == set()


@pytest.mark.parametrize(("table", "code"),
                         [(name, code) for name, table in TABLES.items() for code in table])
def test_each_phrase_has_welsh(table: str, code: str):
    english = TABLES[table][code]
    assert WELSH.gettext(english) != english, f"{table} {code}: no Welsh for {english!r}"


def test_a_welsh_page_says_a_code_in_welsh_and_an_unknown_code_as_it_is():
    messages = i18n.translations("cy")
    template = page_templates().from_string(
        "{{ in_words('income_band', TRANSFORMS) }}|{{ in_words('full_name', COMPARED_FIELDS) }}"
        "|{{ in_words('something_new', TRANSFORMS) }}")
    rendered = template.render(lang="cy", _=messages.gettext)
    assert rendered == "dim ond y band incwm|Enw|something_new"


def test_an_alerts_moments_kept_as_text_read_in_uk_time():
    template = page_templates().from_string("{{ first|when }}|{{ odd|when }}")
    rendered = template.render(lang="en", first="2026-12-05T19:28:00+00:00", odd="not a time")
    assert rendered == "5 December 2026, 7:28pm|not a time"
