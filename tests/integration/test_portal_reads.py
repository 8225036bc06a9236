"""What the web portals read through the use cases the composition root gives them, on SQLite
and PostgreSQL: the datasets a citizen may challenge, an audit entry checked against the
published keys, and the key that signs the forms' CSRF tokens."""

from __future__ import annotations

import pytest

from onceonly.bootstrap import Exchange, bootstrap
from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Principal, Role
from tests.integration.test_accuracy import citizen
from tests.integration.test_audit import _operator, append

ADMIN = Principal("admin-1", "Admin", "GOV/EXCHANGE", Role.ADMIN)


@pytest.fixture
def log(exchange: Exchange) -> Exchange:
    _operator(exchange)
    return exchange


def test_the_challenge_page_offers_exactly_the_datasets_a_challenge_may_be_raised_on(
        exchange, world):
    offered = {d.id for d in exchange.accuracy.challengeable_datasets()}
    with exchange.uows() as uow:
        catalogue = uow.catalogue.datasets()
    registers = {d.id for d in catalogue if d.id not in offered}
    assert offered and registers  # the world has both kinds
    for dataset_id in registers:
        with pytest.raises(DomainError) as refused:
            exchange.accuracy.raise_challenge(citizen(world), dataset_id, "any", "wrong", None)
        assert refused.value.code == "dataset_not_challengeable"


def test_an_entry_under_the_signed_head_verifies_against_the_published_keys(log):
    append(log, 4)
    log.audit.integrate()

    result = log.entry_verification.verify(ADMIN, 2)

    assert (result.ok, result.index, result.tree_size, result.problem) == (True, 2, 4, None)
    assert result.path_length == 2


def test_an_entry_not_yet_under_a_signed_head_does_not_verify_yet(log):
    append(log, 2)
    log.audit.integrate()
    append(log, 1, start=2)

    result = log.entry_verification.verify(ADMIN, 2)

    assert not result.ok
    assert "not yet under a signed tree head" in result.problem


def test_every_process_signs_the_forms_with_the_same_key(exchange, db_url, clock):
    key = exchange.web_forms_key()
    other = bootstrap(db_url, clock=clock)
    try:
        assert len(key) == 32
        assert other.web_forms_key() == key == exchange.web_forms_key()
    finally:
        other.close()
