"""The demo world built as any exchange is (demo/seed.py), on SQLite and PostgreSQL: the
demo file applied through the use cases, its agreements decided by the guardians, the
citizen's account bound to a person of the index; applying the file again changes
nothing."""

from __future__ import annotations

from onceonly.bootstrap import Exchange
from onceonly.declarative.apply import apply_declaration
from onceonly.demo.seed import World, default_store_prefix, demo_declaration
from onceonly.domain.agreements import AgreementStatus
from onceonly.domain.organisations import Role


def test_applying_the_demo_file_to_the_demo_world_again_changes_nothing(
        world: World, exchange: Exchange, db_url: str):
    admin = next(a.principal for a in world.accounts if a.label == "admin")
    said: list[str] = []
    before = (exchange.catalogue.read(), exchange.agreements.list(admin))

    again = apply_declaration(exchange, admin,
                              demo_declaration(db_url, default_store_prefix(db_url)),
                              say=said.append)

    assert (again.steps, again.issued) == ((), ())
    assert said == ["exchange.yaml: nothing to change"]
    assert (exchange.catalogue.read(), exchange.agreements.list(admin)) == before


def test_every_demo_agreement_is_approved_by_its_providers_guardians(
        world: World, exchange: Exchange):
    admin = next(a.principal for a in world.accounts if a.label == "admin")
    agreements = exchange.agreements.list(admin)

    assert [a.id for a in agreements] == list(range(1, len(agreements) + 1))
    assert {a.status for a in agreements} == {AgreementStatus.APPROVED}
    assert len(agreements) == 28


def test_the_citizen_acts_for_a_person_of_the_index(world: World, exchange: Exchange):
    citizen = next(a for a in world.accounts if a.label == "citizen")

    assert citizen.principal.role is Role.CITIZEN
    assert citizen.principal.person_key == world.citizen_ids["person_key"]
    assert exchange.auth.authenticate(citizen.token).person_key == citizen.principal.person_key
