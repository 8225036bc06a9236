"""A UK postal address as a person gives it: lines, a town, and a postcode.

The postcode is checked against the pattern the UK Government Data Standards Catalogue
publishes for postcodes (BS 7666; also quoted under "Postcodes in the United Kingdom:
validation"): an outward code (area, district) and an inward code (sector, unit), or the
special GIR 0AA. It checks the form only: no list of live postcodes is kept here, and none
of the maintained libraries that check one is a dependency of the exchange.
"""

from __future__ import annotations

import re

# Outward code: 1-2 letters (the second never I, Z), a digit, then a digit or letter;
# inward code: a digit and two letters. Spaces are optional as typed.
UK_POSTCODE = re.compile(
    r"^(?:(?P<outward>[A-Z][A-HJ-Y]?[0-9][A-Z0-9]?) ?(?P<inward>[0-9][A-Z]{2})|GIR ?0AA)$")
MAX_ADDRESS = 200  # the event schemas' longest string


def uk_postcode(typed: str) -> str | None:
    """The postcode as it is written (capitals, one space before the inward code), or None
    when what was typed is not a UK postcode's form."""
    compact = re.sub(r"\s+", "", typed).upper()
    match = UK_POSTCODE.match(compact)
    if match is None:
        return None
    if match["outward"] is None:
        return "GIR 0AA"
    return f"{match['outward']} {match['inward']}"


def address_text(lines: list[str], postcode: str) -> str:
    """The address on one line, as the event carries it: its lines, then the postcode."""
    return ", ".join([line for line in lines if line] + [postcode])
