"""Special-category data is shared only under a named UK GDPR Article 9 condition."""

from __future__ import annotations

import pytest

from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.special_category import (
    LEGAL_REFERENCE,
    ProcessingCondition,
    require_condition,
)


def test_special_category_data_without_a_condition_is_refused_saying_why():
    with pytest.raises(DomainError) as refused:
        require_condition(True, None)
    assert refused.value.kind is ErrorKind.INVALID
    assert refused.value.code == "special_category_condition_missing"
    assert refused.value.detail == (
        "the agreement releases special-category data: name the UK GDPR Article 9 "
        "condition (with its DPA 2018 Schedule 1 condition) it rests on")


@pytest.mark.parametrize("condition", list(ProcessingCondition))
def test_any_named_condition_lets_special_category_data_through(condition):
    assert require_condition(True, condition) is None


@pytest.mark.parametrize("condition", [None, *ProcessingCondition])
def test_other_data_needs_no_condition(condition):
    assert require_condition(False, condition) is None


def test_every_condition_cites_its_article_9_paragraph():
    assert set(LEGAL_REFERENCE) == set(ProcessingCondition)
    assert LEGAL_REFERENCE[ProcessingCondition.EXPLICIT_CONSENT] == "UK GDPR Article 9(2)(a)"
    assert LEGAL_REFERENCE[ProcessingCondition.SUBSTANTIAL_PUBLIC_INTEREST] == (
        "UK GDPR Article 9(2)(g); DPA 2018 Schedule 1 Part 2")
    assert all(ref.startswith("UK GDPR Article 9(2)(") for ref in LEGAL_REFERENCE.values())
    assert [c.value for c in ProcessingCondition] == [
        "explicit-consent", "employment-social-security", "vital-interests", "legal-claims",
        "substantial-public-interest", "health-social-care", "public-health",
        "archiving-research"]
