"""X-Road style identifiers."""

from __future__ import annotations

import pytest

from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import parse_org_id, parse_system_id


@pytest.mark.parametrize("good", ["GOV/HMRC", "LA/NORTHSHIRE", "NHS/NHSE", "COM/ACME"])
def test_good_org_ids(good):
    assert parse_org_id(good) == good


@pytest.mark.parametrize("bad", ["gov/hmrc", "GOV", "GOV/HMRC/income", "GOV//X", "", "G/X",
                                 "GOV/HMRC; DROP"])
def test_bad_org_ids(bad):
    with pytest.raises(DomainError) as error:
        parse_org_id(bad)
    assert error.value.code == "invalid_org_id"


def test_system_ids():
    assert parse_system_id("GOV/HMRC/income") == "GOV/HMRC/income"
    with pytest.raises(DomainError):
        parse_system_id("GOV/HMRC")


@pytest.mark.parametrize("bad", ["GOV/HMRC", "GOV/HMRC/Income", "gov/HMRC/income",
                                 "GOV/HMRC/income/x", "GOV/HMRC/"])
def test_bad_system_ids(bad):
    with pytest.raises(DomainError) as error:
        parse_system_id(bad)
    assert (error.value.kind, error.value.code) == ("invalid", "invalid_system_id")
    assert repr(bad) in error.value.detail


def test_an_org_id_refusal_names_the_value():
    with pytest.raises(DomainError) as error:
        parse_org_id("gov")
    assert (error.value.kind, error.value.detail) == (
        "invalid", "'gov' is not an organisation id; expected CLASS/CODE such as GOV/HMRC")
