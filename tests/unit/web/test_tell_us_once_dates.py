"""A date typed in GOV.UK's date input (day, month, year) becomes the event's ISO date."""

from __future__ import annotations

import pytest

from onceonly.entrypoints.web.tell_us_once import _date


def typed(day: str, month: str, year: str) -> dict[str, str]:
    return {"data-moved-day": day, "data-moved-month": month, "data-moved-year": year}


@pytest.mark.parametrize(("day", "month", "year", "date"), [
    ("1", "11", "2026", "2026-11-01"), ("01", "1", "2026", "2026-01-01"),
    (" 27 ", "3", "2026", "2026-03-27"),
    ("", "", "", ""),  # nothing typed: the field is missing, not wrong
    ("1", "", "2026", "1//2026"), ("1", "11", "26", "1/11/26"),  # for the check to refuse
    ("first", "11", "2026", "first/11/2026"),
])
def test_the_three_parts_make_the_iso_date_or_are_passed_on_as_typed(day, month, year, date):
    assert _date(typed(day, month, year), "moved") == date
