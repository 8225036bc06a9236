"""Identifiers of people as an organisation names them (services/people.py), on a fake."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.services.people import PeopleService


class FakeIndex:
    schemes = {"GOV/DWP": ["nino"], "GOV/DVLA": ["driver"]}
    links = [("driver", "D2"), ("driver", "D1"), ("nino", "N3"), ("nino", "N1"), ("nino", "N2")]

    def schemes_of(self, org_id: str) -> list[str]:
        return self.schemes.get(org_id, [])

    def identifiers(self, schemes: Sequence[str], limit: int) -> list[tuple[str, str]]:
        return sorted(link for link in self.links if link[0] in schemes)[:limit]


def test_identifiers_are_those_of_the_schemes_the_organisation_names_people_by(uows, clock):
    people = PeopleService(FakeIndex(), uows, clock)

    assert people.identifiers_named_by("GOV/DWP", 2) == [("nino", "N1"), ("nino", "N2")]
    assert people.identifiers_named_by("GOV/DVLA", 10) == [("driver", "D1"), ("driver", "D2")]


def test_an_organisation_naming_nobody_is_told_so(uows, clock):
    with pytest.raises(DomainError) as refused:
        PeopleService(FakeIndex(), uows, clock).identifiers_named_by("COM/ACME", 5)

    assert refused.value.kind is ErrorKind.NOT_FOUND
    assert refused.value.detail == "COM/ACME names nobody by an identifier here"
