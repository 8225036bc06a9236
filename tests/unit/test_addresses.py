"""A UK postcode is checked for its form and written as Royal Mail writes it; an address is
carried on one line, its postcode last."""

from __future__ import annotations

import pytest

from onceonly.domain.addresses import address_text, uk_postcode


@pytest.mark.parametrize(("typed", "written"), [
    ("NT2 4BB", "NT2 4BB"), ("nt24bb", "NT2 4BB"), ("  sw1a  1aa ", "SW1A 1AA"),
    ("M1 1AE", "M1 1AE"), ("B33 8TH", "B33 8TH"), ("CR2 6XH", "CR2 6XH"),
    ("DN55 1PT", "DN55 1PT"), ("W1A 0AX", "W1A 0AX"), ("EC1A 1BB", "EC1A 1BB"),
    ("gir0aa", "GIR 0AA"),
])
def test_a_postcode_of_the_uk_form_is_written_in_capitals_with_one_space(typed, written):
    assert uk_postcode(typed) == written


@pytest.mark.parametrize("typed", [
    "", "NT2", "4BB", "NT2 4B", "NT2 44B", "1T2 4BB", "NIT2 4BB", "NT2 4BB X", "NT2-4BB",
    "QZ1 1AA", "AI1 1AA", "12345", "NT2 4BBB",
])
def test_anything_else_is_not_a_postcode(typed):
    assert uk_postcode(typed) is None


def test_an_address_is_its_lines_then_its_postcode_on_one_line():
    assert address_text(["12 Harbour Road", "", "Northtown"], "NT2 4BB") == (
        "12 Harbour Road, Northtown, NT2 4BB")
