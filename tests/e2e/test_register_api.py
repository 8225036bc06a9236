"""The public register of data-sharing agreements (`GET /v1/register` and `/register`), on
SQLite and PostgreSQL: every agreement in force and only those, parties by name, fields by
label in English and Welsh, for anyone to read, with no personal data."""

from __future__ import annotations

import json

from tests.e2e.conftest import Api
from tests.e2e.test_api import create, draft_body, moved

DWP_OFFICER = "officer:GOV/DWP"


def test_the_register_lists_each_agreement_in_force_in_words_for_anyone(api: Api) -> None:
    answer = api.client.get("/v1/register")  # no token: the register is public
    assert answer.status_code == 200, answer.text
    register = answer.json()
    by_id = {a["id"]: a for a in register["agreements"]}
    assert set(by_id) >= {1, 2, 3, 4, 5, 6}
    first = by_id[1]
    assert first["consumer"] == {"id": "GOV/DWP", "name": "Department for Work and Pensions"}
    assert first["provider"]["id"] == "GOV/HMRC"
    assert first["provider"]["name"] != "GOV/HMRC"
    assert first["purpose"] == "Assess entitlement to means-tested benefits"
    assert first["legal_basis"] == "statutory-duty"
    assert first["legal_basis_words"] == {"en": "A duty set in law",
                                          "cy": "Dyletswydd a osodwyd yn y gyfraith"}
    [income] = first["fields"]
    assert income["label"] == {"en": "Annual income", "cy": "Incwm blynyddol"}
    assert income["description"]["cy"] == "incwm blynyddol mewn punnoedd"
    assert income["derived"] is True
    assert by_id[6]["fields"][0]["label"]["en"] == "Medical conditions"
    text = json.dumps(register)
    assert "officer" not in text  # who drafted or approved it is not the public's
    assert api.world.citizen_ids["nino"] not in text


def test_a_draft_is_not_on_the_register_until_it_is_in_force(api: Api) -> None:
    draft = create(api, DWP_OFFICER, draft_body(api))
    listed = {a["id"] for a in api.client.get("/v1/register").json()["agreements"]}
    assert draft["id"] not in listed
    moved(api, DWP_OFFICER, draft["id"], "submit")
    moved(api, "guardian:GOV/HMRC", draft["id"], "approve")
    listed = {a["id"] for a in api.client.get("/v1/register").json()["agreements"]}
    assert draft["id"] in listed
    moved(api, "guardian:GOV/HMRC", draft["id"], "revoke")
    listed = {a["id"] for a in api.client.get("/v1/register").json()["agreements"]}
    assert draft["id"] not in listed


def test_the_register_page_reads_in_english_and_in_welsh(api: Api) -> None:
    english = api.client.get("/register")
    assert english.status_code == 200
    assert "Department for Work and Pensions" in english.text
    assert "Annual income" in english.text and "A duty set in law" in english.text
    welsh = api.client.get("/register?lang=cy")
    assert "Incwm blynyddol" in welsh.text and "Dyletswydd a osodwyd yn y gyfraith" in welsh.text
    by_header = api.client.get("/register", headers={"Accept-Language": "cy-GB,cy;q=0.9"})
    assert "Incwm blynyddol" in by_header.text


def test_the_register_is_in_the_openapi_document(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    assert "get" in document["paths"]["/v1/register"]
