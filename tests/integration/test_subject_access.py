"""The citizen reads what each organisation holds about them (subject access), to choose a
value to challenge, on SQLite and PostgreSQL: read through each dataset's connector, each
read audited and shown in their access log, special-category fields never read, and a
provider that does not answer noted rather than raised."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.domain.catalogue import Sensitivity
from onceonly.domain.errors import DomainError
from onceonly.services.accuracy import AccuracyService
from onceonly.services.ports.connectors import ProviderFailure

DWP = "GOV/DWP/benefits"


class Recording:
    """The exchange's own connectors, noting every read asked of them; `down` names the
    datasets whose provider does not answer."""

    def __init__(self, inner: Any, down: frozenset[str] = frozenset()) -> None:
        self.inner = inner
        self.down = down
        self.reads: list[tuple[str, tuple[str, ...]]] = []

    def for_dataset(self, dataset_id: str, config: Mapping[str, Any]) -> Any:
        store = self.inner.for_dataset(dataset_id, config)
        outer = self

        class Noted:
            def fetch(self, local_id: str, fields: Sequence[str]) -> Any:
                outer.reads.append((dataset_id, tuple(fields)))
                if dataset_id in outer.down:
                    raise ProviderFailure("provider_unavailable", "connection refused")
                return store.fetch(local_id, fields)

        return Noted()


def citizen(world):
    found = next(a.principal for a in world.accounts if a.label == "citizen")
    return replace(found, person_key=world.citizen_ids["person_key"])


def reading(exchange, connectors: Recording) -> AccuracyService:
    own = exchange.accuracy
    return AccuracyService(own.uows, connectors, own.clock, own.notifier)


def special_fields(exchange) -> dict[str, set[str]]:
    with exchange.uows() as uow:
        return {d.id: {f.name for f in d.fields if f.sensitivity is Sensitivity.SPECIAL}
                for d in uow.catalogue.datasets()}


def subject_reads(exchange) -> list[Any]:
    with exchange.engine.connect() as conn:
        return conn.execute(select(t.audit_log).where(
            t.audit_log.c.action == "subject_access.read").order_by(t.audit_log.c.seq)).all()


def test_the_citizen_sees_each_value_held_and_each_read_is_audited(exchange, world):
    connectors = Recording(exchange.connectors)
    held = reading(exchange, connectors).own_values(citizen(world))

    with exchange.uows() as uow:
        config = uow.catalogue.connector_config(DWP)
    nino = world.citizen_ids["nino"]
    address = exchange.connectors.for_dataset(DWP, config).fetch(nino, ["address"])["address"]
    assert address and held[DWP].values["address"] == address and held[DWP].unread is None

    special = special_fields(exchange)
    assert any(special.values()), "the world has special-category data to leave out"
    for dataset_id, fields in connectors.reads:
        assert not special[dataset_id] & set(fields), f"{dataset_id} read special category"
    for record in held.values():
        assert not special[record.dataset_id] & set(record.values or {})

    entries = subject_reads(exchange)
    # Each read audited once; a dataset naming the person by no identifier of theirs is not read.
    audited = [e.detail["dataset"] for e in entries]
    assert len(audited) == len(set(audited)) and set(audited) <= set(held)
    assert {d for d, record in held.items() if record.values is not None or record.unread} <= set(
        audited)
    assert set(held) - set(audited), "the world has a dataset this person is not in"
    assert {(e.outcome, e.person_key, e.actor_id) for e in entries} == {
        ("permit", world.citizen_ids["person_key"], citizen(world).id)}
    assert address not in str([tuple(e) for e in entries])  # names of fields, never values

    log, _ = exchange.audit.access_log(citizen(world), before=None, limit=50)
    own_reads = [a for a in log if a.yourself]
    assert len(own_reads) == len(audited) and all(a.officer is None for a in own_reads)


def test_a_provider_that_does_not_answer_is_noted_and_the_others_are_still_read(
        exchange, world):
    connectors = Recording(exchange.connectors, down=frozenset({DWP}))
    held = reading(exchange, connectors).own_values(citizen(world))

    assert (held[DWP].values, held[DWP].unread) == (None, "provider_unavailable")
    assert any(r.values for r in held.values() if r.dataset_id != DWP)
    failed = [e for e in subject_reads(exchange) if e.detail["dataset"] == DWP]
    assert [(e.outcome, e.reason) for e in failed] == [("deny", "provider_unavailable")]


def test_only_a_citizen_reads_their_own_values(exchange, world):
    officer = next(a.principal for a in world.accounts if a.label == "officer:COM/ACME")
    connectors = Recording(exchange.connectors)
    with pytest.raises(DomainError) as refused:
        reading(exchange, connectors).own_values(officer)
    assert refused.value.code == "role_not_allowed"
    assert connectors.reads == []  # nothing read; the refusal itself is audited
    assert [(e.outcome, e.reason) for e in subject_reads(exchange)] == [
        ("deny", "role_not_allowed")]
