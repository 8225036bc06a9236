"""Anomaly alerts over HTTP: the provider's guardian sees the evidence and resumes or
revokes the suspended agreement; nobody else can."""

from __future__ import annotations

from sqlalchemy import select

from onceonly.adapters.db import tables as t
from tests.e2e.conftest import Api
from tests.support.problems import assert_problem

DWP_GUARDIAN = "guardian:GOV/DWP"


def acme_query(api: Api, nino: str):
    return api.client.post("/v1/queries", headers=api.auth("officer:COM/ACME"), json={
        "agreement_id": 3, "subject": {"scheme": "nino", "value": nino},
        "fields": ["full_name"], "purpose": "disability-assessment"})


def test_a_guardian_resumes_an_agreement_suspended_for_harvesting(api: Api) -> None:
    with api.exchange.engine.connect() as conn:
        people = conn.execute(select(t.person_links.c.value)
                              .where(t.person_links.c.scheme == "nino").limit(4)).scalars().all()
    api.exchange.anomaly.set_rule("COM/ACME", None, "many_persons", 4, 600)
    for nino in people:
        assert acme_query(api, nino).status_code == 200
    api.exchange.anomaly.detect()
    assert_problem(acme_query(api, people[0]), 403, "agreement_not_active")

    listed = api.client.get("/v1/alerts", headers=api.auth(DWP_GUARDIAN))
    assert listed.status_code == 200, listed.text
    alert = listed.json()[0]
    assert (alert["agreement_id"], alert["rule"], alert["status"]) == (3, "many_persons", "open")
    assert (alert["suspended"], alert["officer"]) == ("agreement", None)
    assert alert["evidence"]["count"] == 4
    assert api.client.get("/v1/alerts", headers=api.auth("guardian:GOV/HMRC")).json() == []
    assert_problem(api.client.get("/v1/alerts", headers=api.auth("officer:COM/ACME")), 403,
                   "role_not_allowed")
    assert_problem(api.client.post(f"/v1/alerts/{alert['id']}/resume", json={"reason": "x"},
                                   headers=api.auth("guardian:GOV/HMRC")), 404, "alert_unknown")

    resumed = api.client.post(f"/v1/alerts/{alert['id']}/resume",
                              json={"reason": "ACME explained the referrals"},
                              headers=api.auth(DWP_GUARDIAN))

    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "resumed"
    assert acme_query(api, people[0]).status_code == 200
    assert_problem(api.client.post(f"/v1/alerts/{alert['id']}/revoke", json={"reason": "x"},
                                   headers=api.auth(DWP_GUARDIAN)), 409, "alert_resolved")
    assert_problem(api.client.post(f"/v1/alerts/{alert['id']}/resume", json={},
                                   headers=api.auth(DWP_GUARDIAN)), 422, "invalid_request")
