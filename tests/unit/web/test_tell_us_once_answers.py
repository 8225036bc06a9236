"""How a tell-us-once page reads its answer: a date typed in GOV.UK's date input (day,
month, year) becomes the event's ISO date or says what is wrong; an address's parts are
checked and its postcode written as Royal Mail writes it; the pages come in order."""

from __future__ import annotations

import pytest

from onceonly.entrypoints.web.tell_us_once_answers import (
    ADDRESS_ERRORS,
    DATE_NOT_REAL,
    DATE_PARTS_MISSING,
    MISSING,
    TOO_LONG,
    Answers,
    first_unanswered,
    next_step,
    previous_step,
    read_address,
    read_date,
    read_text,
)


def typed(day: str, month: str, year: str) -> dict[str, str]:
    return {"data-moved-day": day, "data-moved-month": month, "data-moved-year": year}


@pytest.mark.parametrize(("day", "month", "year", "date"), [
    ("1", "11", "2026", "2026-11-01"), ("01", "1", "2026", "2026-01-01"),
    (" 27 ", "3", "2026", "2026-03-27"), ("29", "2", "2028", "2028-02-29"),
])
def test_the_three_parts_make_the_iso_date(day, month, year, date):
    assert read_date(typed(day, month, year), "moved", True) == (date, None)


@pytest.mark.parametrize(("day", "month", "year", "error"), [
    ("1", "", "2026", DATE_PARTS_MISSING), ("", "11", "", DATE_PARTS_MISSING),
    ("31", "2", "2026", DATE_NOT_REAL), ("29", "2", "2026", DATE_NOT_REAL),
    ("1", "13", "2026", DATE_NOT_REAL), ("1", "11", "26", DATE_NOT_REAL),
    ("first", "11", "2026", DATE_NOT_REAL), ("0", "11", "2026", DATE_NOT_REAL),
])
def test_what_is_not_a_real_date_says_why(day, month, year, error):
    assert read_date(typed(day, month, year), "moved", True) == ("", error)


def test_nothing_typed_is_missing_when_the_question_needs_an_answer_and_fine_when_not():
    assert read_date(typed("", "", ""), "effective_date", True) == ("", MISSING[
        "effective_date"])
    assert read_date(typed("", "", ""), "moved", False) == ("", None)


def test_a_text_answer_is_stripped_needed_when_required_and_at_most_200_characters():
    assert read_text({"data-new_full_name": "  Alex Newname "}, "new_full_name", True) == (
        "Alex Newname", None)
    assert read_text({}, "new_full_name", True) == ("", MISSING["new_full_name"])
    assert read_text({}, "previous_full_name", False) == ("", None)
    assert read_text({"data-x": "a" * 201}, "x", False)[1] == TOO_LONG


def address(line1: str = "12 Harbour Road", town: str = "Northtown",
            postcode: str = "nt2 4bb") -> dict[str, str]:
    return {"address-line1": line1, "address-town": town, "address-postcode": postcode}


def test_an_address_needs_its_first_line_town_and_a_uk_postcode():
    parts, errors = read_address(address())
    assert errors == {} and parts["postcode"] == "NT2 4BB" and parts["line2"] == ""
    assert read_address(address("", "", ""))[1] == {
        "line1": ADDRESS_ERRORS["line1"], "town": ADDRESS_ERRORS["town"],
        "postcode": ADDRESS_ERRORS["postcode"]}
    parts, errors = read_address(address(postcode="NT2 4B"))
    assert errors == {"postcode": ADDRESS_ERRORS["postcode_form"]}
    assert parts["postcode"] == "NT2 4B"  # as typed, to put right
    assert read_address(address(line1="a" * 190))[1] == {"line1": ADDRESS_ERRORS["too_long"]}


SCHEMA = {"properties": {"new_address": {}, "effective_date": {}}, "required": []}


def test_the_pages_come_in_order_and_check_waits_for_every_answer():
    assert previous_step("what", SCHEMA) is None
    assert previous_step("new_address", SCHEMA) == "what"
    assert previous_step("check", SCHEMA) == "tell"
    assert next_step("effective_date", SCHEMA) == "tell"
    answers = Answers(type="t", answered=["what", "new_address"])
    assert first_unanswered(answers, SCHEMA) == "effective_date"
    answers.answered += ["effective_date", "tell"]
    assert first_unanswered(answers, SCHEMA) == "check"
