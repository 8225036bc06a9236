"""A small world on the fakes: two organisations, a dataset, an approved agreement, one
person known to both, and the provider's record of them."""

from __future__ import annotations

import pytest

from onceonly.domain.identity import PAIRWISE
from onceonly.domain.organisations import Organisation
from tests.fakes.clock import FixedClock
from tests.fakes.connectors import FakeConnectors
from tests.fakes.data import FakeData
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import INCOME, NOW, agreement

PROVIDER, CONSUMER = "GOV/HMRC", "GOV/DWP"
PERSON, NINO = "person-1", "AB123456C"
RECORD = {"full_name": "Ann Example", "annual_income": 31000, "date_of_birth": "1980-01-02",
          "conditions": ["asthma"]}


def world() -> FakeData:
    data = FakeData()
    for org_id, name in ((PROVIDER, "Revenue"), (CONSUMER, "Benefits"), ("GOV/DVLA", "Cars")):
        data.organisations[org_id] = Organisation(org_id, name)
    data.datasets[INCOME.id] = INCOME
    data.connectors[INCOME.id] = {"kind": "fake"}
    data.agreements[1] = agreement(version=1)
    data.last_id["agreements"] = 1
    data.schemes |= {"nino", "dvla_id", PAIRWISE}
    data.links["nino", NINO] = PERSON
    data.org_schemes |= {(CONSUMER, "nino"), (PROVIDER, "nino"), ("GOV/DVLA", "dvla_id")}
    return data


@pytest.fixture
def uows() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory(world())


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def connectors() -> FakeConnectors:
    found = FakeConnectors()
    found.add(INCOME.id, NINO, **RECORD)
    return found
