"""Minimisation transforms."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onceonly.domain.agreements import FieldGrant
from onceonly.domain.catalogue import FieldType
from onceonly.domain.errors import DomainError
from onceonly.domain.transforms import TRANSFORMS, Transform, get_transform, minimise, transform

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


@pytest.mark.parametrize(("born", "adult"), [
    ("2008-12-24", False),  # same day of a later month
    ("2008-10-25", True),  # a later day of an earlier month
    ("2008-11-23", True),
    ("2007-12-31", True),
])
def test_age_over_18_compares_month_before_day(born, adult):
    assert apply("age_over_18", born) is adult


@pytest.mark.parametrize(("value", "masked"), [
    ("QQ123456C", "*****456C"), ("AB", "AB"), ("ABCD", "ABCD"), ("ABCDE", "*BCDE"), ("", ""),
    (None, None), (12345678, "****5678"),
])
def test_mask_last4_keeps_only_four(value, masked):
    assert apply("mask_last4", value) == masked


@pytest.mark.parametrize(("value", "year"), [
    ("1984-07-09", 1984), (date(2001, 1, 1), 2001), (datetime(1999, 12, 31, 23, 59), 1999),
    (None, None),
])
def test_year_only_gives_the_year_and_nothing_else(value, year):
    assert apply("year_only", value) == year


@pytest.mark.parametrize(("value", "present"), [
    ("2026-01-01", True), ("", False), ([], False), (None, False), (0, True), (False, True),
    (["x"], True), (" ", True),
])
def test_is_present(value, present):
    assert apply("is_present", value) is present


@pytest.mark.parametrize(("benefits", "receives"), [
    (["pip", "universal_credit"], True), (["universal_credit"], True), (["pip"], False),
    ([], False), (None, False),
])
def test_receives_universal_credit(benefits, receives):
    assert apply("receives_universal_credit", benefits) is receives


@pytest.mark.parametrize("condition",
                         ["epilepsy", "severe_visual_impairment", "narcolepsy", "dementia"])
def test_each_notifiable_condition_makes_a_driver_unfit(condition):
    assert apply("fit_to_drive", [condition]) is False
    assert apply("fit_to_drive", ["asthma", condition]) is False


@pytest.mark.parametrize("conditions", [["asthma"], [], None, ["diabetes", "migraine"]])
def test_no_notifiable_condition_is_fit_to_drive(conditions):
    assert apply("fit_to_drive", conditions) is True


def test_each_transform_declares_what_it_accepts_and_gives():
    d, i, s, b, lst = (FieldType.DATE, FieldType.INTEGER, FieldType.STRING, FieldType.BOOLEAN,
                       FieldType.LIST)
    assert {name: (t.accepts, t.output, t.derived) for name, t in TRANSFORMS.items()} == {
        "as_is": (None, None, False),
        "mask_last4": (frozenset({s}), s, False),
        "year_only": (frozenset({d}), i, True),
        "age_over_18": (frozenset({d}), b, True),
        "is_present": (None, b, True),
        "income_band": (frozenset({i}), s, True),
        "receives_universal_credit": (frozenset({lst}), b, True),
        "fit_to_drive": (frozenset({lst}), b, True),
    }
    assert TRANSFORMS["year_only"].description == "The year of a date, without month or day."
    assert all(name == t.name for name, t in TRANSFORMS.items())


def test_minimise_releases_each_grant_computed_from_its_source_and_nothing_else():
    record = {"annual_income": 40_000, "date_of_birth": "1990-05-17", "full_name": "Ada Lovelace",
              "nino": "QQ123456C", "conditions": ["epilepsy"]}
    grants = [FieldGrant("band", "annual_income", "income_band"),
              FieldGrant("born_in", "date_of_birth", "year_only"),
              FieldGrant("full_name", "full_name"),
              FieldGrant("adult", "date_of_birth", "age_over_18")]
    assert minimise(grants, record, TODAY) == {
        "band": "12571-50270", "born_in": 1990, "full_name": "Ada Lovelace", "adult": True}
    assert minimise([], record, TODAY) == {}
    # today is the one given: the same person is a minor on an earlier day
    assert minimise(grants[3:], {"date_of_birth": "2008-11-25"}, TODAY) == {"adult": False}
    assert minimise(grants[3:], {"date_of_birth": "2008-11-25"},
                    date(2026, 11, 25)) == {"adult": True}


def test_unknown_transform_is_a_clear_error():
    with pytest.raises(DomainError) as error:
        get_transform("rot13")
    assert (error.value.kind, error.value.code) == ("invalid", "unknown_transform")
    assert error.value.detail == (
        "no transform named 'rot13'; known: age_over_18, as_is, fit_to_drive, income_band, "
        "is_present, mask_last4, receives_universal_credit, year_only")


def test_adding_a_transform_is_one_function():
    @transform("initials_for_test", accepts=None, output=None)
    def initials(value, today):
        """
        Initials only.
        """
        return "".join(part[0] for part in value.split())

    @transform("weekday_for_test", accepts={FieldType.DATE}, output=FieldType.INTEGER,
               derived=False)
    def weekday(value, today):
        return value.weekday()

    try:
        assert apply("initials_for_test", "Ada Lovelace") == "AL"
        assert get_transform("initials_for_test") == Transform(
            "initials_for_test", None, None, True, initials, "Initials only.")
        assert get_transform("weekday_for_test") == Transform(
            "weekday_for_test", frozenset({FieldType.DATE}), FieldType.INTEGER, False, weekday,
            "")
    finally:
        del TRANSFORMS["initials_for_test"]
        del TRANSFORMS["weekday_for_test"]
