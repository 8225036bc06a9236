"""Publishing datasets over a real server, on SQLite and PostgreSQL: a provider's guardian
publishes under its own system (403 for another's), the connector is tried once against the
store first (unreachable, or a table or column missing: 422 `connector_unusable` naming the
cause, nothing stored), versions follow one another and the catalogue lists them, and a
version that removes or retypes a field an agreement in force uses is refused naming it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, insert, select, text

from onceonly.adapters.db import tables as t
from tests.e2e.conftest import Api
from tests.e2e.test_api import (
    HMRC_GUARDIAN,
    assert_denial_audited,
    audit_since,
    before,
)
from tests.support.problems import assert_problem

SYSTEM = "GOV/HMRC/vat"


@pytest.fixture(scope="module")
def store(api: Api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """HMRC's VAT register: a store of its own (a SQLite file), and a system to publish it
    under."""
    path = tmp_path_factory.mktemp("vat") / "vat.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE vat (nino VARCHAR(64) PRIMARY KEY, "
                          "vat_number VARCHAR(20), registered DATE, turnover INTEGER)"))
    engine.dispose()
    with api.exchange.engine.begin() as conn:
        conn.execute(insert(t.systems).values(id=SYSTEM, org_id="GOV/HMRC", title="VAT"))
    yield f"sqlite:///{path}"


def field(name: str, kind: str = "string") -> dict[str, str]:
    return {"name": name, "type": kind, "sensitivity": "personal", "source": "verified",
            "label": name.replace("_", " ").capitalize(), "description": f"the {name}"}


def publication(url: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "system": SYSTEM, "title": "VAT registrations", "subject_scheme": "nino",
        "fields": [field("vat_number"), field("registered", "date")],
        "offers": ["is_present"],
        "connector": {"kind": "sql", "url": url, "table": "vat", "key": "nino",
                      "columns": {"vat_number": "string", "registered": "date",
                                  "turnover": "integer"}},
    }
    body.update(changes)
    return body


def publish(api: Api, body: dict[str, Any], label: str = HMRC_GUARDIAN) -> httpx.Response:
    return api.client.post("/v1/datasets", json=body, headers=api.auth(label))


def stored(api: Api) -> tuple[Any, ...]:
    with api.exchange.engine.connect() as conn:
        return (conn.execute(select(t.datasets).where(t.datasets.c.id == SYSTEM)).all(),
                conn.execute(select(func.count()).select_from(t.dataset_versions)).scalar())


def test_a_guardian_publishes_versions_the_catalogue_lists(api: Api, store: str) -> None:
    was = before(api)
    first = publish(api, publication(store))
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1 and first.json()["offers"] == ["is_present"]
    [entry] = audit_since(api, was.seq)
    assert (entry.action, entry.outcome, entry.provider_id) == ("dataset.publish", "done",
                                                                "GOV/HMRC")
    assert entry.detail == {"dataset": SYSTEM, "version": 1, "offers": ["is_present"],
                            "event_type": None, "connector": "sql"}
    second = publish(api, publication(store, fields=[
        field("vat_number"), field("registered", "date"), field("turnover", "integer")]))
    assert second.status_code == 201, second.text
    assert [v["version"] for v in second.json()["versions"]] == [1, 2]
    catalogue = api.client.get("/v1/catalogue").json()
    [vat] = [d for d in catalogue["datasets"] if d["id"] == SYSTEM]
    assert vat["version"] == 2
    assert [v["fields"] for v in vat["versions"]] == [
        ["vat_number", "registered"], ["vat_number", "registered", "turnover"]]
    assert vat["fields"][2]["label"] == "Turnover"
    # A demo dataset, published once through the same use case, shows its one dated version.
    [income] = [d for d in catalogue["datasets"] if d["id"] == "GOV/HMRC/income"]
    assert [(v["version"], v["published_at"] is not None)
            for v in income["versions"]] == [(1, True)]
    listed = {d["id"]: d for d in api.client.get("/v1/datasets").json()}
    assert listed[SYSTEM]["versions"] == vat["versions"]


def test_another_organisations_guardian_cannot_publish_under_its_system(
        api: Api, store: str) -> None:
    was, rows = before(api), stored(api)
    assert_problem(publish(api, publication(store), "guardian:GOV/DWP"), 403,
                   "not_your_organisation")
    assert stored(api) == rows
    assert_denial_audited(api, was, "not_your_organisation", "dataset.publish")


# Each cause named as the store or the configuration names it (the words around it are the
# connector's own).
@pytest.mark.parametrize(("connector", "cause"), [
    ({"url": "postgresql+psycopg://postgres@127.0.0.1:1/test"}, "port 1"),
    ({"url": "sqlite:////nonexistent/folder/vat.sqlite"}, "/nonexistent/folder/vat.sqlite"),
    ({"table": "vat_returns"}, "vat_returns"),
    ({"key": "utr"}, "utr"),
    ({"columns": {"vat_number": "string", "registered": "date", "missing_one": "string"},
      "fields": ["missing_one"]}, "missing_one"),
    ({"columns": {"vat_number": "string"}}, "registered"),
])
def test_a_connector_that_cannot_serve_the_dataset_stores_nothing(
        api: Api, store: str, connector: dict[str, Any], cause: str) -> None:
    body, connector = publication(store), dict(connector)
    extra = connector.pop("fields", [])
    body["connector"].update(connector)
    body["fields"] += [field(name) for name in extra]
    was, rows = before(api), stored(api)
    problem = assert_problem(publish(api, body), 422, "connector_unusable")
    assert cause in problem["detail"].removeprefix(f"the connector of {SYSTEM} "), problem
    assert stored(api) == rows
    assert_denial_audited(api, was, "connector_unusable", "dataset.publish")


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"offers": ["no_such_answer"]}, 422, "unknown_transform"),
    ({"offers": ["mask_last4"]}, 422, "unknown_transform"),  # not a derived answer
    ({"offers": ["age_over_18"], "fields": [field("vat_number")]}, 422,
     "transform_mismatch"),
    ({"subject_scheme": "nosuch"}, 422, "unknown_scheme"),
    ({"system": "GOV/HMRC/nosuch"}, 404, "system_unknown"),
    ({"life_events": {"event_types": ["no.such.event"]}}, 422, "event_type_unknown"),
    # GRO's deaths register emits it already: one register an event type.
    ({"life_events": {"event_types": ["gov.onceonly.death.registered"]}}, 409,
     "already_exists"),
    ({"fields": [field("vat_number"), field("vat_number")]}, 422, "duplicate_field"),
    ({"connector": {"kind": "carrier-pigeon"}}, 422, "connector_invalid"),
    ({"connector": {"kind": "sql"}}, 422, "connector_invalid"),
])
def test_a_publication_that_breaks_a_rule_is_refused_and_changes_nothing(
        api: Api, store: str, change: dict[str, Any], status: int, code: str) -> None:
    was, rows = before(api), stored(api)
    assert_problem(publish(api, publication(store, **change)), status, code)
    assert stored(api) == rows
    assert_denial_audited(api, was, code, "dataset.publish")


def test_a_malformed_publication_is_refused_unaudited(api: Api, store: str) -> None:
    was = before(api)
    body = publication(store)
    body["fields"][0]["type"] = "blob"
    assert_problem(publish(api, body), 422, "invalid_request")
    assert audit_since(api, was.seq) == []


def current_income(api: Api) -> dict[str, Any]:
    with api.exchange.engine.connect() as conn:
        row = conn.execute(select(t.datasets)
                           .where(t.datasets.c.id == "GOV/HMRC/income")).one()
    return {"system": row.id, "title": row.title, "subject_scheme": row.subject_scheme,
            "fields": [{k: f[k] for k in ("name", "type", "sensitivity", "source")}
                       | {"label": f["name"], "description": f.get("description", "")}
                       for f in row.fields],
            "connector": dict(row.connector)}


@pytest.mark.parametrize("change", ["remove", "retype"])
def test_a_version_that_drops_a_field_an_agreement_in_force_uses_is_refused(
        api: Api, change: str) -> None:
    body = current_income(api)
    if change == "remove":
        body["fields"] = [f for f in body["fields"] if f["name"] != "annual_income"]
    else:
        [income] = [f for f in body["fields"] if f["name"] == "annual_income"]
        income["type"] = "string"
    was = before(api)
    with api.exchange.engine.connect() as conn:
        versions = conn.execute(select(t.datasets.c.version, t.datasets.c.fields)
                                .where(t.datasets.c.id == "GOV/HMRC/income")).one()
    problem = assert_problem(publish(api, body), 409, "field_in_use")
    assert "annual_income" in problem["detail"] and "1" in problem["detail"]
    assert_denial_audited(api, was, "field_in_use", "dataset.publish")
    with api.exchange.engine.connect() as conn:
        assert conn.execute(select(t.datasets.c.version, t.datasets.c.fields)
                            .where(t.datasets.c.id == "GOV/HMRC/income")).one() == versions


def test_a_field_only_a_revoked_or_draft_agreement_uses_may_go(api: Api, tmp_path: Path
                                                                ) -> None:
    body = current_income(api)
    used = _fields_granted_in_force(api)
    spare = [f for f in body["fields"] if f["name"] not in used]
    assert spare, "every field of the income dataset is granted"
    body["fields"] = [f for f in body["fields"] if f["name"] != spare[0]["name"]]
    response = publish(api, body)
    assert response.status_code == 201, response.text
    assert response.json()["version"] == 2
    # The first version is listed still, with its own publication time.
    v1, v2 = response.json()["versions"]
    assert (v1["version"], v2["version"]) == (1, 2)
    assert v1["published_at"] is not None and v1["published_at"] <= v2["published_at"]
    assert spare[0]["name"] in v1["fields"] and spare[0]["name"] not in v2["fields"]


def _fields_granted_in_force(api: Api) -> set[str]:
    now = api.clock.now()
    with api.exchange.engine.connect() as conn:
        rows = conn.execute(select(t.agreements).where(
            t.agreements.c.dataset_id == "GOV/HMRC/income")).all()
    return {g["source"] for row in rows if row.status in ("approved", "suspended")
            and row.valid_until > now for g in row.grants}
