"""Anomaly thresholds set over HTTP by a provider's guardian, for its own agreements with a
consumer only; on SQLite and PostgreSQL, through a real server."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from onceonly.adapters.db import tables as t
from tests.e2e.conftest import Api
from tests.integration.test_use_limits import limited_agreement, ninos
from tests.support.problems import assert_problem

HMRC_GUARDIAN, DWP_GUARDIAN, DWP_OFFICER = "guardian:GOV/HMRC", "guardian:GOV/DWP", \
    "officer:GOV/DWP"


def rule_rows(api: Api) -> int:
    with api.exchange.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.anomaly_rules)).scalar_one()


def put(api: Api, label: str | None, body: dict[str, Any]):
    return api.client.put("/v1/anomaly-rules", json=body,
                          headers=api.auth(label) if label else {})


def threshold(rules: list[dict[str, Any]], kind: str) -> int:
    return next(r["threshold"] for r in rules if r["kind"] == kind)


def test_a_guardians_threshold_applies_to_its_own_agreements_only(api: Api) -> None:
    agreement = limited_agreement(api.exchange, api.world)  # DWP asks HMRC
    response = put(api, HMRC_GUARDIAN, {"consumer": "GOV/DWP", "kind": "many_persons",
                                        "threshold": 3, "window_seconds": 600})
    assert response.status_code == 200, response.text
    assert response.json() == {"kind": "many_persons", "threshold": 3, "window_seconds": 600}

    seen = api.client.get("/v1/anomaly-rules", params={"consumer": "GOV/DWP"},
                          headers=api.auth(HMRC_GUARDIAN)).json()
    assert (seen["provider"], threshold(seen["rules"], "many_persons")) == ("GOV/HMRC", 3)
    with api.exchange.uows() as uow:  # the operator's rules, for every other provider
        assert uow.activity.rules_for("GOV/DWP")[0]["many_persons"].threshold == 500
        assert uow.activity.rules_for("GOV/DWP", "GOV/DVLA")[0]["many_persons"].threshold == 500

    for nino in ninos(api.exchange, 3):
        answer = api.client.post("/v1/queries", headers=api.auth(DWP_OFFICER), json={
            "agreement_id": agreement, "subject": {"scheme": "nino", "value": nino},
            "fields": ["income_band"], "purpose": "benefit-entitlement"})
        assert answer.status_code == 200, answer.text
    api.exchange.anomaly.detect()

    with api.exchange.engine.connect() as conn:
        status = conn.execute(select(t.agreements.c.status)
                              .where(t.agreements.c.id == agreement)).scalar_one()
        audited = conn.execute(select(t.audit_log.c.actor_id).where(
            t.audit_log.c.action == "anomaly.rule", t.audit_log.c.outcome == "done",
            t.audit_log.c.provider_id == "GOV/HMRC")).scalars().all()
    assert status == "suspended"
    assert audited == [api.principal(HMRC_GUARDIAN).id]
    (alert,) = [a for a in api.client.get("/v1/alerts", headers=api.auth(HMRC_GUARDIAN)).json()
                if a["agreement_id"] == agreement]
    api.client.post(f"/v1/alerts/{alert['id']}/revoke", headers=api.auth(HMRC_GUARDIAN),
                    json={"reason": "test agreement done with"})
    put(api, HMRC_GUARDIAN, {"consumer": "GOV/DWP", "kind": "many_persons",
                             "threshold": 500, "window_seconds": 600})


@pytest.mark.parametrize(("label", "body", "status", "code"), [
    (DWP_OFFICER, {"consumer": "GOV/DWP", "kind": "many_persons", "threshold": 3,
                   "window_seconds": 60}, 403, "role_not_allowed"),
    (DWP_GUARDIAN, {"consumer": "GOV/DWP", "kind": "many_persons", "threshold": 3,
                    "window_seconds": 60}, 404, "consumer_unknown"),
    (HMRC_GUARDIAN, {"consumer": "COM/NOBODY", "kind": "many_persons", "threshold": 3,
                     "window_seconds": 60}, 404, "consumer_unknown"),
    (HMRC_GUARDIAN, {"consumer": "GOV/DWP", "kind": "everything", "threshold": 3,
                     "window_seconds": 60}, 422, "invalid_request"),
    (HMRC_GUARDIAN, {"consumer": "GOV/DWP", "kind": "many_persons", "threshold": 1,
                     "window_seconds": 60}, 422, "invalid_request"),
    (HMRC_GUARDIAN, {"consumer": "GOV/DWP", "kind": "many_persons", "threshold": 3,
                     "window_seconds": 86_401}, 422, "invalid_request"),
    (HMRC_GUARDIAN, {"consumer": "dwp", "kind": "many_persons", "threshold": 3,
                     "window_seconds": 60}, 422, "invalid_request"),
    (None, {"consumer": "GOV/DWP", "kind": "many_persons", "threshold": 3,
            "window_seconds": 60}, 401, "token_missing"),
])
def test_bad_or_unauthorised_settings_change_nothing(api: Api, label, body, status,
                                                     code) -> None:
    was = rule_rows(api)
    assert_problem(put(api, label, body), status, code)
    assert rule_rows(api) == was


@pytest.mark.parametrize("officer", ["officer:COM/ACME", "guardian:GOV/DWP", None])
def test_an_officers_threshold_is_only_for_an_officer_of_that_consumer(
        api: Api, officer: str | None) -> None:
    """Another organisation's officer, the consumer's guardian, or nobody at all: a rule
    that could never apply is refused, not kept."""
    was = rule_rows(api)
    body = {"consumer": "GOV/DWP", "kind": "many_persons", "threshold": 3,
            "window_seconds": 60,
            "officer": api.principal(officer).id if officer else "gov_dwp.nobody"}
    assert_problem(put(api, HMRC_GUARDIAN, body), 404, "officer_unknown")
    assert rule_rows(api) == was
    body["officer"] = api.principal(DWP_OFFICER).id
    assert put(api, HMRC_GUARDIAN, body).status_code == 200
    seen = api.client.get("/v1/anomaly-rules", params={"consumer": "GOV/DWP"},
                          headers=api.auth(HMRC_GUARDIAN)).json()
    assert threshold(seen["officers"][body["officer"]], "many_persons") == 3
    put(api, HMRC_GUARDIAN, body | {"threshold": 10**6})  # out of the other tests' way


def test_reading_another_providers_consumer_is_refused_and_audited(api: Api) -> None:
    response = api.client.get("/v1/anomaly-rules", params={"consumer": "GOV/DWP"},
                              headers=api.auth(DWP_GUARDIAN))
    assert_problem(response, 404, "consumer_unknown")
    with api.exchange.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.audit_log).where(
            t.audit_log.c.action == "anomaly.rule.read",
            t.audit_log.c.reason == "consumer_unknown")).scalar_one() >= 1
