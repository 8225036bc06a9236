"""Minimisation transforms."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onceonly.domain.errors import DomainError
from onceonly.domain.transforms import TRANSFORMS, get_transform, transform

TODAY = date(2026, 11, 24)


def apply(name, value):
    return TRANSFORMS[name].apply(value, TODAY)


@pytest.mark.parametrize(
    ("income", "band"),
    [(0, "0-12570"), (12_570, "0-12570"), (12_571, "12571-50270"), (50_270, "12571-50270"),
     (50_271, "50271-125140"), (125_140, "50271-125140"), (125_141, "125141+"), (None, None)],
)
def test_income_band_edges(income, band):
    assert apply("income_band", income) == band


@given(st.integers(0, 10_000_000))
def test_income_band_is_always_one_of_four_bands(income):
    assert apply("income_band", income) in {"0-12570", "12571-50270", "50271-125140", "125141+"}


@pytest.mark.parametrize(
    ("born", "adult"),
    [("2008-11-24", True), ("2008-11-25", False), ("1950-01-01", True), (None, None),
     ("2008-02-29", True)],
)
def test_age_over_18_on_the_birthday(born, adult):
    assert apply("age_over_18", born) is adult


def test_mask_last4_keeps_only_four():
    assert apply("mask_last4", "QQ123456C") == "*****456C"
    assert apply("mask_last4", "AB") == "AB"


def test_derived_booleans():
    assert apply("receives_universal_credit", ["pip", "universal_credit"]) is True
    assert apply("receives_universal_credit", []) is False
    assert apply("fit_to_drive", ["asthma"]) is True
    assert apply("fit_to_drive", ["epilepsy", "asthma"]) is False
    assert apply("is_present", "2026-01-01") is True
    assert apply("is_present", None) is False


def test_unknown_transform_is_a_clear_error():
    with pytest.raises(DomainError) as error:
        get_transform("rot13")
    assert error.value.code == "unknown_transform"


def test_adding_a_transform_is_one_function():
    @transform("initials_for_test", accepts=None, output=None)
    def initials(value, today):
        """Initials only."""
        return "".join(part[0] for part in value.split())

    try:
        assert apply("initials_for_test", "Ada Lovelace") == "AL"
        assert get_transform("initials_for_test").description == "Initials only."
    finally:
        del TRANSFORMS["initials_for_test"]
