"""An officer whose own pattern trips an anomaly rule is suspended from the provider's data
(every agreement with that provider, while the consumer's other officers carry on) until
the provider's guardian resumes the alert; a pattern of an agreement's traffic as a whole
suspends the agreement, for every officer. Each alert says which, and the words hold for
a second officer of the consumer. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from onceonly.adapters.db import tables as t
from onceonly.domain.anomaly import Suspension
from onceonly.domain.organisations import Principal, Role
from onceonly.services.queries import QueryCommand, QueryRefused
from tests.integration.test_use_limits import limited_agreement, ninos, principal


def ask(exchange, officer: Principal, agreement_id: int, nino: str):
    return exchange.queries.query(officer, QueryCommand(
        agreement_id, "nino", nino, ("income_band",), "benefit-entitlement"))


def probe_sequentially(exchange, officer: Principal) -> None:
    """Six identifiers in a row that nobody holds: each refused, each noted."""
    exchange.anomaly.set_rule("GOV/DWP", None, "sequential_ids", 6, 600)
    for n in range(6):
        with pytest.raises(QueryRefused):
            ask(exchange, officer, 1, f"ZZ{900100 + n}Z")
    exchange.anomaly.detect()


def counted(exchange, agreement_id: int) -> int:
    with exchange.engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.sum(t.query_usage.c.count), 0))
                            .where(t.query_usage.c.agreement_id == agreement_id)).scalar_one()


def refusals(exchange, officer_id: str) -> int:
    with exchange.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.audit_log).where(
            t.audit_log.c.actor_id == officer_id,
            t.audit_log.c.reason == "officer_suspended")).scalar_one()


@pytest.fixture
def colleague(exchange) -> Principal:
    """A second officer of DWP, who did nothing wrong."""
    other = Principal("officer-dwp-colleague", "A colleague", "GOV/DWP", Role.OFFICER, None)
    with exchange.uows(write=True) as uow:
        uow.principals.add(other)
        uow.commit()
    return other


def test_a_probing_officer_is_kept_from_the_providers_data_until_resumed(exchange, world,
                                                                        colleague):
    dwp = principal(world, "officer:GOV/DWP")
    hmrc_guardian = principal(world, "guardian:GOV/HMRC")
    other_agreement = limited_agreement(exchange, world)  # DWP and HMRC again
    nino = ninos(exchange, 1)[0]

    probe_sequentially(exchange, dwp)

    (alert,) = exchange.anomaly.alerts(hmrc_guardian)
    assert (alert.officer_id, alert.suspended) == (dwp.id, "officer")
    with pytest.raises(QueryRefused) as refused:
        ask(exchange, dwp, other_agreement, nino)
    assert (refused.value.code, refused.value.kind.value) == ("officer_suspended", "forbidden")
    assert counted(exchange, other_agreement) == 0  # the refusal counted nothing
    assert refusals(exchange, dwp.id) == 1  # and was audited
    ask(exchange, colleague, other_agreement, nino)  # the consumer carries on

    exchange.anomaly.resolve(hmrc_guardian, alert.id, "resume", "a test run, not probing")

    ask(exchange, dwp, other_agreement, nino)
    ask(exchange, dwp, 1, nino)
    with exchange.engine.connect() as conn:
        reinstated = conn.execute(select(t.audit_log.c.detail).where(
            t.audit_log.c.action == "officer.reinstate")).scalars().all()
    assert [d["officer"] for d in reinstated] == [dwp.id]


def test_a_revoked_alert_keeps_the_officer_out(exchange, world):
    dwp = principal(world, "officer:GOV/DWP")
    hmrc_guardian = principal(world, "guardian:GOV/HMRC")
    other_agreement = limited_agreement(exchange, world)
    probe_sequentially(exchange, dwp)
    (alert,) = exchange.anomaly.alerts(hmrc_guardian)

    exchange.anomaly.resolve(hmrc_guardian, alert.id, "revoke", "deliberate probing")

    with pytest.raises(QueryRefused) as refused:
        ask(exchange, dwp, other_agreement, ninos(exchange, 1)[0])
    assert refused.value.code == "officer_suspended"


def test_an_officers_alert_says_the_agreement_carries_on_and_it_does(exchange, world,
                                                                     colleague):
    dwp = principal(world, "officer:GOV/DWP")
    nino = ninos(exchange, 1)[0]

    probe_sequentially(exchange, dwp)

    (alert,) = exchange.anomaly.alerts(principal(world, "guardian:GOV/HMRC"))
    assert alert.suspended is Suspension.OFFICER
    assert alert.summary.startswith(f"Officer {dwp.id} of GOV/DWP is suspended from "
                                    "GOV/HMRC's data")
    assert "agreement 1 carries on for GOV/DWP's other officers" in alert.summary
    assert ask(exchange, colleague, 1, nino).data  # as the words say: permitted
    with pytest.raises(QueryRefused) as refused:
        ask(exchange, dwp, 1, nino)
    assert refused.value.code == "officer_suspended"


def test_an_agreements_alert_says_it_is_suspended_for_every_officer_and_it_is(exchange, world,
                                                                             colleague):
    dwp = principal(world, "officer:GOV/DWP")
    exchange.anomaly.set_rule("GOV/DWP", None, "many_persons", 5, 600)
    people = ninos(exchange, 6)
    for nino in people[:5]:
        ask(exchange, dwp, 1, nino)

    exchange.anomaly.detect()

    (alert,) = exchange.anomaly.alerts(principal(world, "guardian:GOV/HMRC"))
    assert (alert.rule, alert.officer_id, alert.suspended) \
        == ("many_persons", None, Suspension.AGREEMENT)
    assert alert.summary.startswith("Agreement 1 is suspended for every officer of GOV/DWP")
    assert "carries on" not in alert.summary
    with pytest.raises(QueryRefused) as refused:  # as the words say: refused
        ask(exchange, colleague, 1, people[5])
    assert refused.value.code == "agreement_not_active"
