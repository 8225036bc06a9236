"""Consent and accuracy over HTTP, against a real server on SQLite and PostgreSQL: the
Northbank story (refused, previewed, consented, permitted, withdrawn, refused again), signed
receipts checked against /.well-known/jwks.json, a challenged address corrected and the
correction reaching the consumer that had it; and each bad input refused with its reason
code, audited, changing nothing."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.crypto.signing import verify_compact
from onceonly.domain.organisations import Role
from onceonly.services.tokens import issue_token
from tests.e2e.conftest import Api
from tests.support.problems import assert_problem

BANK_QUERY = {"agreement_id": 4, "fields": ["income_band"], "purpose": "mortgage-affordability"}


def bank_asks(api: Api):
    return api.client.post("/v1/queries", headers=api.auth("officer:COM/NORTHBANK"), json={
        **BANK_QUERY, "subject": {"scheme": "nino", "value": api.world.citizen_ids["nino"]}})


def consent_body(api: Api, **changes):
    body = {"purpose": "mortgage-affordability", "consumer": "COM/NORTHBANK",
            "fields": ["income_band"],
            "expires_at": (api.clock.now() + timedelta(days=30)).isoformat()}
    body.update(changes)
    return body


def verified_receipt(api: Api, answer: dict) -> dict:
    jwks = api.client.get("/.well-known/jwks.json").json()
    payload, kid = verify_compact(answer["receipt_jws"], jwks, "GOV/EXCHANGE")
    assert json.loads(payload) == answer["receipt"]
    assert next(k for k in jwks["keys"] if k["kid"] == kid)["org"] == "GOV/EXCHANGE"
    return answer["receipt"]


def last_audit(api: Api, action: str):
    with api.exchange.engine.connect() as conn:
        return conn.execute(select(t.audit_log).where(t.audit_log.c.action == action)
                            .order_by(t.audit_log.c.seq.desc()).limit(1)).first()


def another_citizen(api: Api) -> dict[str, str]:
    with api.exchange.engine.connect() as conn:
        nino = conn.execute(select(t.person_links.c.value).where(
            t.person_links.c.scheme == "nino",
            t.person_links.c.value != api.world.citizen_ids["nino"]).limit(1)).scalar_one()
    _, token = issue_token(api.exchange.uows, api.exchange.clock, org_id="GOV/EXCHANGE",
                           role=Role.CITIZEN, person=f"nino:{nino}")
    return {"Authorization": f"Bearer {token}"}


def test_northbank_is_refused_then_permitted_with_consent_then_refused_again(api: Api):
    me = api.auth("citizen")
    assert_problem(bank_asks(api), 403, "consent_missing")

    preview = api.client.get("/v1/me/consents/preview", headers=me,
                             params={"agreement_id": 4})
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert (shown["consumer"], shown["sources"]) == ("COM/NORTHBANK", {"income_band": "derived"})

    granted = api.client.post("/v1/me/consents", headers=me, json=consent_body(api))
    assert granted.status_code == 201, granted.text
    receipt = verified_receipt(api, granted.json())
    assert receipt["services"][0]["purposes"][0]["piiCategory"] == ["income_band"]
    consent_id = granted.json()["consent"]["id"]

    permitted = bank_asks(api)
    assert permitted.status_code == 200, permitted.text
    assert permitted.json()["data"] == shown["data"]  # exactly what the preview showed
    assert permitted.json()["sources"] == {"income_band": "derived"}

    listed = api.client.get("/v1/me/consents", headers=me).json()
    assert [(c["id"], c["state"]) for c in listed][:1] == [(consent_id, "live")]

    withdrawn = api.client.delete(f"/v1/me/consents/{consent_id}", headers=me)
    assert withdrawn.status_code == 200, withdrawn.text
    assert verified_receipt(api, withdrawn.json())["consentReceiptID"] \
        != receipt["consentReceiptID"]
    assert withdrawn.json()["consent"]["state"] == "withdrawn"
    assert_problem(bank_asks(api), 403, "consent_missing")
    assert_problem(api.client.delete(f"/v1/me/consents/{consent_id}", headers=me),
                   409, "already_withdrawn")


def test_consent_for_a_purpose_that_does_not_exist_is_refused(api: Api):
    response = api.client.post("/v1/me/consents", headers=api.auth("citizen"),
                               json=consent_body(api, purpose="selling-my-data"))
    assert_problem(response, 422, "purpose_unknown")
    row = last_audit(api, "consent.grant")
    assert (row.outcome, row.reason, row.purpose) == ("deny", "purpose_unknown",
                                                      "selling-my-data")


def test_withdrawing_someone_elses_consent_is_answered_as_a_missing_one(api: Api):
    granted = api.client.post("/v1/me/consents", headers=api.auth("citizen"),
                              json=consent_body(api))
    consent_id = granted.json()["consent"]["id"]
    stranger = another_citizen(api)
    theirs = api.client.delete(f"/v1/me/consents/{consent_id}", headers=stranger)
    missing = api.client.delete("/v1/me/consents/00000000-0000-4000-8000-000000000000",
                                headers=stranger)
    assert_problem(theirs, 404, "consent_unknown")
    answers = [{k: v for k, v in assert_problem(r, 404, "consent_unknown").items()
                if k != "request_id"} for r in (theirs, missing)]  # each request its own id
    assert answers[0] == answers[1]
    with api.exchange.engine.connect() as conn:
        reasons = conn.execute(select(t.audit_log.c.reason).where(
            t.audit_log.c.action == "consent.withdraw").order_by(t.audit_log.c.seq.desc())
            .limit(2)).scalars().all()
    assert reasons == ["consent_unknown", "consent_not_yours"]
    assert bank_asks(api).status_code == 200  # the owner's consent stands
    api.client.delete(f"/v1/me/consents/{consent_id}", headers=api.auth("citizen"))


def test_other_bad_consents_are_refused(api: Api):
    me = api.auth("citizen")
    past = (api.clock.now() - timedelta(minutes=1)).isoformat()
    for body, status, code in (
            (consent_body(api, expires_at=past), 422, "expiry_in_past"),
            (consent_body(api, fields=["annual_income"]), 422, "field_not_in_purpose"),
            (consent_body(api, expires_at="2027-01-01T00:00:00"), 422, "invalid_request"),
            (consent_body(api, fields=["x" * 65]), 422, "invalid_request")):
        assert_problem(api.client.post("/v1/me/consents", headers=me, json=body),
                       status, code)
    assert_problem(api.client.post("/v1/me/consents", headers=api.auth("officer:GOV/DWP"),
                                   json=consent_body(api)), 403, "role_not_allowed")
    assert_problem(api.client.get("/v1/me/consents/preview", headers=me,
                                  params={"agreement_id": 1}), 409, "consent_not_needed")


def test_a_challenge_on_a_field_the_citizen_cannot_see_is_refused(api: Api):
    me = api.auth("citizen")
    for dataset, field in (("NHS/NHSE/patient-record", "conditions"),
                           ("GOV/HMRC/income", "fit_to_drive")):
        response = api.client.post("/v1/me/challenges", headers=me, json={
            "dataset_id": dataset, "field": field, "what_is_wrong": "wrong"})
        assert_problem(response, 403, "field_not_visible")
        row = last_audit(api, "challenge.raise")
        assert (row.outcome, row.reason) == ("deny", "field_not_visible")
    assert api.client.get("/v1/me/challenges", headers=me).json() == []
    too_long = api.client.post("/v1/me/challenges", headers=me, json={
        "dataset_id": "GOV/HMRC/income", "field": "address", "what_is_wrong": "x" * 2001})
    assert_problem(too_long, 422, "invalid_request")


REGISTERS = ("GOV/GRO/deaths", "GOV/GRO/births", "GOV/GRO/marriages",
             "GOV/EXCHANGE/changes-of-name", "GOV/EXCHANGE/changes-of-address")


def test_a_register_of_life_events_cannot_be_challenged(api: Api):
    me = api.auth("citizen")
    catalogue = {d["id"]: d for d in api.client.get("/v1/catalogue").json()["datasets"]}
    for dataset in REGISTERS:
        field = catalogue[dataset]["fields"][0]["name"]
        response = api.client.post("/v1/me/challenges", headers=me, json={
            "dataset_id": dataset, "field": field, "what_is_wrong": "wrong"})
        assert_problem(response, 422, "dataset_not_challengeable")
        row = last_audit(api, "challenge.raise")
        assert (row.outcome, row.reason) == ("deny", "dataset_not_challengeable")
    assert api.client.get("/v1/me/challenges", headers=me).json() == []


def test_a_challenged_address_is_corrected_and_the_consumer_that_had_it_is_told(api: Api):
    ids = api.world.citizen_ids
    seen = api.client.post("/v1/queries", headers=api.auth("officer:COM/ACME"), json={
        "agreement_id": 3, "subject": {"scheme": "nino", "value": ids["nino"]},
        "fields": ["address"], "purpose": "disability-assessment"}).json()
    assert seen["sources"] == {"address": "citizen-supplied"}

    raised = api.client.post("/v1/me/challenges", headers=api.auth("citizen"), json={
        "dataset_id": "GOV/DWP/benefits", "field": "address",
        "what_is_wrong": "this is where I used to live", "proposed_value": "2 New Lane"})
    assert raised.status_code == 201, raised.text
    challenge_id = raised.json()["id"]

    guardian = api.auth("guardian:GOV/DWP")
    queue = api.client.get("/v1/challenges", headers=guardian).json()
    item = next(i for i in queue if i["id"] == challenge_id)
    assert item["subject"] == {"scheme": "nino", "value": ids["nino"]}
    assert_problem(api.client.get("/v1/challenges", headers=api.auth("citizen")),
                   403, "role_not_allowed")
    assert_problem(api.client.post(f"/v1/challenges/{challenge_id}/correct",
                                   headers=api.auth("guardian:GOV/HMRC"),
                                   json={"value": "2 New Lane", "reason": "x"}),
                   404, "challenge_unknown")

    corrected = api.client.post(f"/v1/challenges/{challenge_id}/correct", headers=guardian,
                                json={"value": "2 New Lane", "reason": "council confirms"})
    assert corrected.status_code == 200, corrected.text
    assert [(n["consumer"], n["fields"]) for n in corrected.json()["notified"]] == [
        ("COM/ACME", ["address"])]

    notices = api.client.get("/v1/correction-notices", headers=api.auth("officer:COM/ACME"))
    assert seen["release_id"] in notices.json()[0]["release_ids"]
    mine = api.client.get("/v1/me/challenges", headers=api.auth("citizen")).json()
    assert next(c for c in mine if c["id"] == challenge_id)["status"] == "corrected"
