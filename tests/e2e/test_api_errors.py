"""How the API answers what goes wrong, against a real server on SQLite and PostgreSQL: an
unforeseen fault is a 500 problem body naming the request's id (never a bare 500), with the
traceback logged under that id; every answer carries its request id, and so does every line
logged while serving it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from sqlalchemy import update

from onceonly.adapters.db import tables as t
from tests.e2e.conftest import Api
from tests.support.logs import captured_logs
from tests.support.problems import assert_problem

CHALLENGED = "GOV/DWP/benefits"


@contextmanager
def broken_connector(api: Api, dataset_id: str) -> Iterator[None]:
    """The dataset's connector configured with a kind no adapter serves (an operator's
    mistake): reading the provider's store fails in a way no route foresees."""
    with api.exchange.engine.begin() as conn:
        kept = conn.execute(t.datasets.select().where(t.datasets.c.id == dataset_id)).one()
        conn.execute(update(t.datasets).where(t.datasets.c.id == dataset_id)
                     .values(connector={"kind": "carrier-pigeon"}))
    try:
        yield
    finally:
        with api.exchange.engine.begin() as conn:
            conn.execute(update(t.datasets).where(t.datasets.c.id == dataset_id)
                         .values(connector=kept.connector))


def test_an_unforeseen_fault_is_a_problem_body_with_the_request_id(api: Api) -> None:
    with broken_connector(api, CHALLENGED), captured_logs(processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.format_exc_info]) as logs:
        response = api.client.post("/v1/me/challenges", headers=api.auth("citizen"), json={
            "dataset_id": CHALLENGED, "field": "address", "what_is_wrong": "moved"})

    body = assert_problem(response, 500, "internal_error")
    request_id = response.headers["x-request-id"]
    assert body["request_id"] == request_id and len(request_id) == 32
    assert "carrier-pigeon" not in response.text  # the fault's words stay in the log
    logged = [e for e in logs if e["event"] == "internal error"]
    assert len(logged) == 1
    assert logged[0]["request_id"] == request_id
    assert logged[0]["log_level"] == "error"
    assert logged[0]["exception"].startswith("Traceback (most recent call last)")
    assert "ValueError: dataset GOV/DWP/benefits: no connector for kind 'carrier-pigeon'" \
        in logged[0]["exception"]
    # Mended, the same request is answered.
    assert api.client.get("/v1/me/challenges", headers=api.auth("citizen")).status_code == 200


def test_every_answer_and_every_line_logged_for_it_carries_the_request_id(api: Api) -> None:
    with captured_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        refused = api.client.post("/v1/queries", headers=api.auth("officer:GOV/DWP"), json={
            "agreement_id": 1, "subject": {"scheme": "nino", "value": "QQ000000A"},
            "fields": ["income_band"], "purpose": "not-the-purpose"})
    assert refused.status_code == 403, refused.text
    request_id = refused.headers["x-request-id"]
    assert [e["request_id"] for e in logs if e["event"] == "refused"] == [request_id]

    answers = [api.client.get("/healthz"), api.client.get("/healthz"),
               api.client.get("/no/such/route"), api.client.get("/v1/catalogue")]
    ids = [a.headers["x-request-id"] for a in answers]
    assert len(set(ids)) == len(ids)
    assert_problem(answers[2], 404, "not_found")


def test_a_405_names_every_method_the_path_takes(api: Api) -> None:
    for method, path, allow in (("PUT", "/v1/me/consents", "GET, POST"),
                                ("DELETE", "/v1/catalogue", "GET"),
                                ("POST", "/healthz", "GET"),
                                ("PATCH", "/v1/agreements/1", "GET"),
                                ("POST", "/static/app.css", "GET, HEAD")):
        response = api.client.request(method, path, headers=api.auth("citizen"))
        assert_problem(response, 405, "method_not_allowed")
        assert response.headers["allow"] == allow, (method, path)


DUPLICATED = (
    # (label, method, path, body): one route of each module that takes a JSON body
    ("officer:GOV/DWP", "POST", "/v1/queries",
     '{"agreement_id": 1, "agreement_id": 2, "subject": {"scheme": "nino", "value": "QQ1"},'
     ' "fields": ["income_band"], "purpose": "benefit-eligibility"}'),
    ("officer:GOV/DWP", "POST", "/v1/queries",
     '{"agreement_id": 1, "subject": {"scheme": "nino", "value": "QQ1", "value": "QQ2"},'
     ' "fields": ["income_band"], "purpose": "benefit-eligibility"}'),
    ("guardian:GOV/HMRC", "POST", "/v1/agreements/1/suspend", '{"reason": "a", "reason": ""}'),
    ("citizen", "POST", "/v1/me/challenges",
     '{"dataset_id": "GOV/DWP/benefits", "field": "address", "field": "nino",'
     ' "what_is_wrong": "moved"}'),
    ("officer:COM/ACME", "POST", "/v1/bulk-extracts",
     '{"agreement_id": 3, "purpose": "x", "subjects": [], "recipient_jwk": {"kty": "OKP",'
     ' "kty": "EC"}}'),
    ("guardian:GOV/HMRC", "PUT", "/v1/anomaly-rules",
     '{"consumer": "GOV/DWP", "kind": "distinct_people", "threshold": 5, "threshold": 9,'
     ' "window_seconds": 60}'),
    ("guardian:GOV/DVLA", "POST", "/v1/identity/candidates/1/confirm",
     '{"reason": "same person", "reason": "not"}'),
    ("citizen", "POST", "/v1/me/events",
     '{"type": "gov.onceonly.address.changed", "data": {"new_address": "1 A St",'
     ' "new_address": "2 B St", "effective_date": "2026-01-01"}}'),
)


def test_a_key_named_twice_in_a_json_body_is_refused(api: Api) -> None:
    for label, method, path, body in DUPLICATED:
        response = api.client.request(method, path, content=body, headers={
            **api.auth(label), "Content-Type": "application/json"})
        problem = assert_problem(response, 422, "duplicate_key")
        assert "appears twice" in problem["detail"], (path, problem)
