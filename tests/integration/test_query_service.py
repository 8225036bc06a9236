"""The governed query, through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from onceonly.adapters.db import tables as t
from onceonly.crypto.canonical import canonical_json
from onceonly.crypto.signing import verify_detached
from onceonly.domain.errors import DomainError
from onceonly.services.queries import QueryCommand, QueryRefused


def officer(world, org):
    return next(a.principal for a in world.accounts if a.label == f"officer:{org}")


def guardian(world, org):
    return next(a.principal for a in world.accounts if a.label == f"guardian:{org}")


def audit_rows(exchange):
    with exchange.engine.connect() as conn:
        return conn.execute(select(t.audit_log).order_by(t.audit_log.c.seq)).fetchall()


def income_band(world, **changes):
    command = dict(agreement_id=1, scheme="nino", value=world.citizen_ids["nino"],
                   fields=("income_band",), purpose="benefit-entitlement")
    command.update(changes)
    return QueryCommand(**command)


def test_a_direct_caller_gets_the_release_signed_by_its_provider(exchange, world):
    release = exchange.queries.query(officer(world, "GOV/DWP"), income_band(world))

    assert release.payload == canonical_json(release.body())
    assert verify_detached(release.signature, release.payload, exchange.key_store.jwks(),
                           release.provider_id)


def test_permit_releases_only_the_derived_band_and_audits_names_and_hash(exchange, world):
    release = exchange.queries.query(officer(world, "GOV/DWP"), income_band(world))

    assert set(release.data) == {"income_band"}
    assert release.data["income_band"] in {"0-12570", "12571-50270", "50271-125140", "125141+"}
    last = audit_rows(exchange)[-1]
    assert (last.action, last.outcome, last.agreement_id) == ("query.release", "permit", 1)
    assert last.fields == ["income_band"]
    assert len(last.values_hash) == 64
    assert release.data["income_band"] not in str(last.detail)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"fields": ("annual_income",)}, "field_not_in_agreement"),
        ({"purpose": "fraud-detection"}, "purpose_mismatch"),
        ({"value": "ZZ999999Z"}, "subject_unknown"),
        ({"agreement_id": 999}, "agreement_unknown"),
    ],
)
def test_refusals_carry_a_reason_and_are_audited(exchange, world, changes, code):
    before = len(audit_rows(exchange))

    with pytest.raises(QueryRefused) as refused:
        exchange.queries.query(officer(world, "GOV/DWP"), income_band(world, **changes))

    assert refused.value.code == code
    rows = audit_rows(exchange)
    assert len(rows) == before + 1
    assert (rows[-1].outcome, rows[-1].reason) == ("deny", code)


def test_another_organisations_officer_is_refused(exchange, world):
    with pytest.raises(QueryRefused) as refused:
        exchange.queries.query(officer(world, "COM/ACME"), income_band(world))
    assert refused.value.code == "not_agreement_party"


def test_consent_basis_without_consent_is_refused(exchange, world):
    with pytest.raises(QueryRefused) as refused:
        exchange.queries.query(officer(world, "COM/NORTHBANK"),
                               income_band(world, agreement_id=4,
                                           purpose="mortgage-affordability"))
    assert refused.value.code == "consent_missing"


def test_revocation_refuses_the_very_next_query(exchange, world):
    dwp = officer(world, "GOV/DWP")
    exchange.queries.query(dwp, income_band(world))

    exchange.agreements.transition(guardian(world, "GOV/HMRC"), 1, "revoke", "breach reported")

    with pytest.raises(QueryRefused) as refused:
        exchange.queries.query(dwp, income_band(world))
    assert refused.value.code == "agreement_not_active"


def test_contract_end_refuses_acme(exchange, world, clock):
    acme = officer(world, "COM/ACME")
    command = income_band(world, agreement_id=3, fields=("full_name",),
                          purpose="disability-assessment")
    assert exchange.queries.query(acme, command).data["full_name"]

    clock.advance(timedelta(days=91))

    with pytest.raises(QueryRefused) as refused:
        exchange.queries.query(acme, command)
    assert refused.value.code == "outside_validity"


def test_unknown_scheme_is_bad_input_not_a_decision(exchange, world):
    before = len(audit_rows(exchange))
    with pytest.raises(DomainError) as error:
        exchange.queries.query(officer(world, "GOV/DWP"), income_band(world, scheme="ssn"))
    assert error.value.code == "unknown_scheme"
    assert len(audit_rows(exchange)) == before


@pytest.mark.parametrize("changes", [{}, {"purpose": "fraud-detection"}, {"agreement_id": 999},
                                     {"value": "ZZ999999Z"}],
                         ids=["released", "refused", "no agreement", "no person"])
def test_a_query_takes_one_connection_its_refusal_included(exchange, world, changes):
    exchange.queries.query(officer(world, "GOV/DWP"), income_band(world))  # keys now loaded
    checkouts: list[object] = []

    def note(*_args: object) -> None:
        checkouts.append(_args)
    event.listen(exchange.engine, "checkout", note)
    try:
        exchange.queries.query(officer(world, "GOV/DWP"), income_band(world, **changes))
    except QueryRefused:
        pass
    finally:
        event.remove(exchange.engine, "checkout", note)

    assert len(checkouts) == 1
    assert audit_rows(exchange)[-1].outcome == ("permit" if not changes else "deny")
