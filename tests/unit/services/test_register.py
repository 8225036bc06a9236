"""The public register on the fakes: agreements in force only, by their parties' names, with
each released field's words from the catalogue."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from onceonly.domain.agreements import AgreementStatus
from onceonly.services.register import RegisterService
from tests.unit.factories import NOW, agreement


def test_only_agreements_in_force_are_registered_with_names_and_labels(uows, clock):
    data = uows.data
    data.datasets["GOV/HMRC/income"] = replace(data.datasets["GOV/HMRC/income"], fields=tuple(
        replace(f, label="Annual income", label_cy="Incwm blynyddol")
        if f.name == "annual_income" else f for f in data.datasets["GOV/HMRC/income"].fields))
    data.agreements[2] = agreement(id=2, status=AgreementStatus.SUSPENDED)
    data.agreements[3] = agreement(id=3, status=AgreementStatus.SUBMITTED)
    data.agreements[4] = agreement(id=4, valid_until=NOW - timedelta(seconds=1))
    data.agreements[5] = agreement(id=5, status=AgreementStatus.REVOKED)

    entries = RegisterService(uows, clock).in_force()

    assert [e.agreement.id for e in entries] == [1, 2]
    first = entries[0]
    assert (first.provider_name, first.consumer_name) == ("Revenue", "Benefits")
    band, name = first.fields
    assert (band.name, band.derived, band.label_in("cy")) == ("income_band", True,
                                                              "Incwm blynyddol")
    assert (name.name, name.derived) == ("full_name", False)
