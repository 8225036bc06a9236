"""The kill switch over HTTP: a guardian suspends every agreement of one consumer with the
guardian's organisation in one action, with a reason, and restores exactly those."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from onceonly.adapters.db import tables as t
from tests.e2e.conftest import Api
from tests.e2e.test_api import (
    HMRC_GUARDIAN,
    active_income_agreement,
    income_query,
    moved,
    query,
)
from tests.support.problems import assert_problem

DWP_GUARDIAN = "guardian:GOV/DWP"


def pull(api: Api, label: str, consumer: str, reason: str = "breach at the contractor"):
    return api.client.post("/v1/kill-switches", json={"consumer": consumer, "reason": reason},
                           headers=api.auth(label))


def restore(api: Api, label: str, switch_id: int, reason: str = "breach contained"):
    return api.client.post(f"/v1/kill-switches/{switch_id}/restore", json={"reason": reason},
                           headers=api.auth(label))


def status(api: Api, agreement_id: int) -> str:
    with api.exchange.engine.connect() as conn:
        return conn.execute(select(t.agreements.c.status)
                            .where(t.agreements.c.id == agreement_id)).scalar_one()


def audited(api: Api, action: str) -> list[Any]:
    with api.exchange.engine.connect() as conn:
        return conn.execute(select(t.audit_log).where(t.audit_log.c.action == action)
                            .order_by(t.audit_log.c.seq)).all()


def test_pulling_suspends_every_agreement_of_that_consumer_and_only_those(api: Api) -> None:
    extra = active_income_agreement(api)  # a second DWP <- HMRC agreement
    dwp_from_hmrc = {1, extra}

    response = pull(api, HMRC_GUARDIAN, "GOV/DWP")

    assert response.status_code == 201, response.text
    switch = response.json()
    assert (switch["provider"], switch["consumer"]) == ("GOV/HMRC", "GOV/DWP")
    assert set(switch["agreements"]) == dwp_from_hmrc
    assert {status(api, a) for a in dwp_from_hmrc} == {"suspended"}
    # Another consumer of HMRC (Northbank, 4) and DWP's own data (2, 3) are untouched.
    assert [status(api, a) for a in (2, 3, 4)] == ["approved"] * 3
    refusal = query(api, "officer:GOV/DWP", income_query(api))
    assert_problem(refusal, 403, "agreement_not_active")
    history = api.client.get(f"/v1/agreements/{extra}", headers=api.auth(HMRC_GUARDIAN)).json()
    assert history["history"][-1]["reason"] == "kill switch: breach at the contractor"
    assert audited(api, "killswitch.pull")[-1].detail["agreements"] == switch["agreements"]

    restored = restore(api, HMRC_GUARDIAN, switch["id"])

    assert restored.status_code == 200, restored.text
    assert restored.json()["restored_by"] == api.principal(HMRC_GUARDIAN).id
    assert {status(api, a) for a in dwp_from_hmrc} == {"approved"}
    assert query(api, "officer:GOV/DWP", income_query(api)).status_code == 200
    again = restore(api, HMRC_GUARDIAN, switch["id"])
    assert_problem(again, 409, "already_restored")


def test_restoring_leaves_an_agreement_revoked_since_revoked(api: Api) -> None:
    kept, dropped = active_income_agreement(api), active_income_agreement(api)
    switch = pull(api, HMRC_GUARDIAN, "GOV/DWP").json()
    assert {kept, dropped} <= set(switch["agreements"])
    moved(api, HMRC_GUARDIAN, dropped, "revoke")

    assert restore(api, HMRC_GUARDIAN, switch["id"]).status_code == 200

    assert (status(api, kept), status(api, dropped)) == ("approved", "revoked")


@pytest.mark.parametrize(("label", "body", "status_code", "code"), [
    ("officer:GOV/DWP", {"consumer": "COM/ACME", "reason": "x"}, 403, "not_provider_guardian"),
    (DWP_GUARDIAN, {"consumer": "GOV/DWP", "reason": "x"}, 422, "self_kill_switch"),
    (DWP_GUARDIAN, {"consumer": "COM/NOBODY", "reason": "x"}, 404, "organisation_unknown"),
    (DWP_GUARDIAN, {"consumer": "COM/ACME", "reason": "   "}, 422, "reason_required"),
    (DWP_GUARDIAN, {"consumer": "acme", "reason": "x"}, 422, "invalid_request"),
    (DWP_GUARDIAN, {"consumer": "COM/ACME"}, 422, "invalid_request"),
])
def test_bad_pulls_are_refused_and_change_nothing(api: Api, label: str, body: dict[str, Any],
                                                  status_code: int, code: str) -> None:
    response = api.client.post("/v1/kill-switches", json=body, headers=api.auth(label))

    assert_problem(response, status_code, code)
    assert status(api, 3) == "approved"  # ACME's agreement with DWP
    if status_code != 422 or code != "invalid_request":  # refused by a rule: audited
        assert audited(api, "killswitch.pull")[-1].reason == code


def test_only_the_organisation_that_pulled_it_restores_it(api: Api) -> None:
    switch = pull(api, DWP_GUARDIAN, "COM/ACME").json()
    try:
        assert switch["agreements"] == [3]
        assert_problem(restore(api, HMRC_GUARDIAN, switch["id"]), 404, "kill_switch_unknown")
        assert_problem(restore(api, "officer:GOV/DWP", switch["id"]), 404,
                       "kill_switch_unknown")
        assert_problem(restore(api, DWP_GUARDIAN, 999_999), 404, "kill_switch_unknown")
        assert status(api, 3) == "suspended"
        listed = api.client.get("/v1/kill-switches", headers=api.auth(DWP_GUARDIAN)).json()
        assert switch["id"] in {s["id"] for s in listed}
        others = api.client.get("/v1/kill-switches", headers=api.auth(HMRC_GUARDIAN)).json()
        assert switch["id"] not in {s["id"] for s in others}
        assert_problem(api.client.get("/v1/kill-switches", headers=api.auth("officer:GOV/DWP")),
                       403, "role_not_allowed")
    finally:
        assert restore(api, DWP_GUARDIAN, switch["id"]).status_code == 200
    assert status(api, 3) == "approved"
