"""Agreements, each kept with its history and a version, as the database keeps them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from onceonly.domain.agreements import Agreement
from onceonly.domain.errors import conflict
from onceonly.services.ports.agreements import AgreementSource, DayUsage
from tests.fakes.data import FakeData


class FakeAgreements:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def get(self, agreement_id: int, *, with_history: bool = False) -> Agreement | None:
        found = self.data.agreements.get(agreement_id)
        if found is None:
            return None
        return found if with_history else replace(found, history=())

    def get_each(self, agreement_ids) -> dict[int, Agreement]:
        return {i: found for i in agreement_ids if (found := self.get(i)) is not None}

    def with_source(self, agreement_id: int, day: date | None = None
                    ) -> AgreementSource | None:
        agreement = self.get(agreement_id)
        if agreement is None:
            return None
        dataset = self.data.datasets[agreement.dataset_id]
        return AgreementSource(
            agreement, dataset.subject_scheme, self.data.connectors.get(dataset.id, {}),
            {f.name: f.source.value for f in dataset.fields},
            self.data.queries.get((agreement_id, day), 0) if day else 0, self.data.standing)

    def usage(self, agreement_id: int, day: date) -> DayUsage:
        return DayUsage(self.data.queries.get((agreement_id, day), 0), self.data.standing)

    def add(self, agreement: Agreement) -> int:
        new_id = self.data.next_id("agreements")
        self.data.agreements[new_id] = replace(agreement, id=new_id, version=1)
        return new_id

    def save(self, agreement: Agreement) -> None:
        assert agreement.id is not None
        stored = self.data.agreements[agreement.id]
        if stored.version != agreement.version:
            raise conflict("concurrent_update", "the agreement changed meanwhile")
        self.data.agreements[agreement.id] = replace(
            agreement, version=agreement.version + 1,
            history=(*stored.history, *agreement.history[-1:]))

    def list_for(self, org_id: str | None) -> list[Agreement]:
        return [replace(a, history=()) for _, a in sorted(self.data.agreements.items())
                if org_id is None or org_id in (a.provider_id, a.consumer_id)]
