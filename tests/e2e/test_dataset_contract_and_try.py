"""At publication, an HTTP connector checked against the provider's own OpenAPI document
(over the API and at the command line), and `onceonly dataset test`: one person's record
read through the connector, with what each agreement in force would release from it. On
SQLite and PostgreSQL, against a real provider API on a loopback port."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from typer.testing import CliRunner

from onceonly.adapters.db import tables as t
from onceonly.entrypoints.cli import app
from tests.e2e.conftest import Api
from tests.e2e.test_datasets_api import current_income
from tests.e2e.test_http_connector import (
    HMRC,
    HMRC_FIELDS,
    HMRC_OPENAPI,
    Connect,
    audit_tail,
    last_seq,
)
from tests.e2e.test_http_connector import connect as connect  # the fixture
from tests.support.problems import assert_problem

runner = CliRunner()
GUARDIAN = "guardian:GOV/HMRC"


def retyped_income() -> dict[str, Any]:
    """HMRC's document, saying its annual income is a string."""
    document = copy.deepcopy(HMRC_OPENAPI)
    document["paths"]["/people/{nino}"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]["properties"]["income"]["properties"]["annual"] = {
        "type": "string"}
    return document


def http_publication(api: Api, base_url: str) -> dict[str, Any]:
    body = current_income(api)
    body["connector"] = {"kind": "http", "url": base_url + "/people/{id}",
                         "fields_param": "fields", "fields": copy.deepcopy(HMRC_FIELDS),
                         "timeout": 5}
    return body


def version(api: Api) -> int:
    with api.exchange.engine.connect() as conn:
        return conn.execute(select(t.datasets.c.version)
                            .where(t.datasets.c.id == HMRC)).scalar_one()


def publish(api: Api, body: dict[str, Any]) -> httpx.Response:
    return api.client.post("/v1/datasets", json=body, headers=api.auth(GUARDIAN))


def test_a_publication_the_providers_document_contradicts_is_refused_naming_the_field(
        api: Api, connect: Connect) -> None:
    provider = connect()
    body, was, before = http_publication(api, provider.base_url), version(api), last_seq(api)
    problem = assert_problem(publish(api, body | {"openapi": retyped_income()}), 422,
                             "connector_contract_mismatch")
    assert problem["detail"].startswith("annual_income: ")
    assert [(e.action, e.outcome, e.reason) for e in audit_tail(api, before)] == [
        ("dataset.publish", "deny", "connector_contract_mismatch")]
    assert version(api) == was and provider.seen == []  # checked before the API is tried
    # A document that is no OpenAPI document is refused the same way, never a 500.
    assert_problem(publish(api, body | {"openapi": {"paths": ["not", "a", "mapping"]}}),
                   422, "connector_contract_mismatch")
    # An SQL connector has no OpenAPI document to agree with.
    sql = body | {"connector": {"kind": "sql", "url": "sqlite://"}, "openapi": HMRC_OPENAPI}
    assert "kind: " in assert_problem(publish(api, sql), 422,
                                      "connector_contract_mismatch")["detail"]
    published = publish(api, body | {"openapi": HMRC_OPENAPI})
    assert published.status_code == 201, published.text
    assert version(api) == was + 1
    (entry,) = [e for e in audit_tail(api, before) if e.outcome == "done"]
    assert entry.action == "dataset.publish" and len(entry.detail["openapi"]) == 64


def test_dataset_publish_checks_the_document_given_at_the_command_line(
        api: Api, connect: Connect, module_db_url: str, tmp_path: Path) -> None:
    provider = connect()
    file, document = tmp_path / "income.json", tmp_path / "openapi.json"
    file.write_text(json.dumps(http_publication(api, provider.base_url)))
    document.write_text(json.dumps(retyped_income()))
    was, before = version(api), last_seq(api)
    result = runner.invoke(app, ["dataset", "publish", str(file), "--openapi", str(document),
                                 "--db", module_db_url])
    assert result.exit_code == 2
    assert "connector_contract_mismatch: annual_income:" in result.output.replace("\n", "")
    assert version(api) == was
    assert [(e.action, e.reason) for e in audit_tail(api, before)] == [
        ("dataset.publish", "connector_contract_mismatch")]
    document.write_text(json.dumps(HMRC_OPENAPI))
    result = runner.invoke(app, ["dataset", "publish", str(file), "--openapi", str(document),
                                 "--db", module_db_url])
    assert result.exit_code == 0, result.output
    assert version(api) == was + 1


def test_dataset_test_reads_one_record_and_shows_what_each_agreement_would_release(
        api: Api, connect: Connect, module_db_url: str) -> None:
    provider = connect()
    nino = api.world.citizen_ids["nino"]
    before = last_seq(api)
    result = runner.invoke(app, ["dataset", "test", HMRC, "--subject", f"nino:{nino}",
                                 "--db", module_db_url])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines()]
    by_agreement = {line[0]: (line[1], json.loads(line[3])) for line in lines}
    consumer, released = by_agreement["agreement 1"]
    assert consumer == "GOV/DWP" and set(released) == {"income_band"}
    # One read, through HMRC's own API, of only the fields the agreements take.
    ((method, path),) = [(s.method, s.path) for s in provider.seen]
    assert (method, path) == ("GET", f"/people/{nino}")
    entries = audit_tail(api, before)
    assert [(e.action, e.outcome, e.person_key) for e in entries] == [
        ("dataset.test", "done", api.world.citizen_ids["person_key"])]
    assert "agreement 1" not in json.dumps(entries[0].detail) and \
        1 in entries[0].detail["agreements"]


def test_dataset_test_refuses_a_person_the_provider_does_not_know(
        api: Api, connect: Connect, module_db_url: str) -> None:
    provider = connect()
    before = last_seq(api)
    result = runner.invoke(app, ["dataset", "test", HMRC, "--subject", "nino:ZZ999999Z",
                                 "--db", module_db_url])
    assert result.exit_code == 2 and "subject_unknown" in result.output
    assert [(e.action, e.outcome, e.reason) for e in audit_tail(api, before)] == [
        ("dataset.test", "deny", "subject_unknown")]
    assert provider.seen == []
    result = runner.invoke(app, ["dataset", "test", HMRC, "--subject", "no-colon",
                                 "--db", module_db_url])
    assert result.exit_code == 2 and "SCHEME:VALUE" in result.output
    del provider.records[api.world.citizen_ids["nino"]]
    result = runner.invoke(app, ["dataset", "test", HMRC, "--subject",
                                 f"nino:{api.world.citizen_ids['nino']}", "--db", module_db_url])
    assert result.exit_code == 2 and "record_unknown" in result.output


def test_a_pointer_that_does_not_read_is_refused_not_a_server_error(
        api: Api, connect: Connect) -> None:
    provider = connect()
    body, was = http_publication(api, provider.base_url), version(api)
    bad_ref = copy.deepcopy(HMRC_OPENAPI)
    bad_ref["paths"]["/people/{nino}"]["get"]["responses"]["200"] = {"$ref": "#no-slash"}
    assert_problem(publish(api, body | {"openapi": bad_ref}), 422,
                   "connector_contract_mismatch")
    body["connector"]["fields"]["address"] = {"type": "string", "pointer": "no-slash"}
    assert_problem(publish(api, body), 422, "connector_invalid")
    assert version(api) == was


# --- the same try over the API --------------------------------------------------------------

def try_over_api(api: Api, body: dict[str, Any], label: str = GUARDIAN,
                 dataset: str = HMRC) -> httpx.Response:
    return api.client.post(f"/v1/datasets/{dataset}/test", json=body, headers=api.auth(label))


def test_the_api_tries_a_dataset_on_one_person_as_the_command_line_does(
        api: Api, connect: Connect) -> None:
    provider = connect()
    nino = api.world.citizen_ids["nino"]
    before = last_seq(api)
    response = try_over_api(api, {"subject": {"scheme": "nino", "value": nino}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dataset"] == HMRC
    by_agreement = {a["agreement_id"]: a for a in body["agreements"]}
    assert by_agreement[1]["consumer"] == "GOV/DWP"
    assert by_agreement[1]["purpose"] == "benefit-entitlement"
    assert set(by_agreement[1]["released"]) == {"income_band"}
    ((method, path),) = [(s.method, s.path) for s in provider.seen]
    assert (method, path) == ("GET", f"/people/{nino}")
    assert [(e.action, e.outcome, e.org_id, e.person_key)
            for e in audit_tail(api, before)] == [
        ("dataset.test", "done", "GOV/HMRC", api.world.citizen_ids["person_key"])]


def test_the_api_refuses_a_try_by_another_organisation_or_of_no_one_known(
        api: Api, connect: Connect) -> None:
    provider = connect()
    nino = api.world.citizen_ids["nino"]
    before = last_seq(api)
    assert_problem(try_over_api(api, {"subject": {"scheme": "nino", "value": nino}},
                                label="guardian:GOV/DVLA"), 403, "not_your_organisation")
    assert_problem(try_over_api(api, {"subject": {"scheme": "nino", "value": nino}},
                                label="officer:GOV/DWP"), 403, "not_your_organisation")
    assert_problem(try_over_api(api, {"subject": {"scheme": "nino", "value": "ZZ999999Z"}}),
                   404, "subject_unknown")
    assert_problem(try_over_api(api, {"subject": {"scheme": "nino", "value": nino}},
                                dataset="GOV/HMRC/nothing"), 404, "dataset_unknown")
    assert [(e.action, e.outcome, e.reason) for e in audit_tail(api, before)] == [
        ("dataset.test", "deny", "not_your_organisation"),
        ("dataset.test", "deny", "not_your_organisation"),
        ("dataset.test", "deny", "subject_unknown"),
        ("dataset.test", "deny", "dataset_unknown")]
    assert provider.seen == []  # none of them reached the provider
    # Bad input is refused before the use case: nothing read, nothing audited.
    before = last_seq(api)
    for bad in ({"subject": {"scheme": "NINO!", "value": nino}},
                {"subject": {"scheme": "nino", "value": "<script>"}},
                {"subject": {"scheme": "nino"}},
                {"subject": {"scheme": "nino", "value": nino}, "fields": ["all"]}):
        assert_problem(try_over_api(api, bad), 422, "invalid_request")
    assert_problem(try_over_api(api, {"subject": {"scheme": "nino", "value": nino}},
                                dataset="GOV/hmrc/income"), 422, "invalid_request")
    assert audit_tail(api, before) == [] and provider.seen == []


def test_the_api_says_when_the_provider_holds_no_record_or_fails(
        api: Api, connect: Connect) -> None:
    provider = connect()
    nino = api.world.citizen_ids["nino"]
    subject = {"subject": {"scheme": "nino", "value": nino}}
    before = last_seq(api)
    provider.status = 500
    failed = try_over_api(api, subject)
    assert_problem(failed, 502, "provider_unavailable")
    assert failed.headers["Retry-After"]
    provider.status = None
    del provider.records[nino]
    assert_problem(try_over_api(api, subject), 404, "record_unknown")
    assert [(e.action, e.outcome, e.reason) for e in audit_tail(api, before)] == [
        ("dataset.test", "deny", "provider_unavailable"),
        ("dataset.test", "deny", "record_unknown")]
