"""Following one request through the logs, against a real server on SQLite and PostgreSQL:
its id (given in X-Request-ID or made) is in the answer, in every line logged for it and in
its problem body; one access line names its route, status, duration, client, organisation
and role, and never its token, the person it is about or a value released."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import structlog

from tests.e2e.conftest import Api
from tests.support.logs import captured_logs
from tests.support.problems import assert_problem


@contextmanager
def logged() -> Iterator[list[dict[str, Any]]]:
    with captured_logs(processors=[structlog.contextvars.merge_contextvars]) as lines:
        yield lines


def of_request(lines: list[dict[str, Any]], request_id: str) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("request_id") == request_id]


def access(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["event"] == "request"]


def query(api: Api, purpose: str = "benefit-entitlement", **headers: str) -> httpx.Response:
    return api.client.post(
        "/v1/queries?nino=" + api.world.citizen_ids["nino"],
        headers={**api.auth("officer:GOV/DWP"), **headers},
        json={"agreement_id": 1, "subject": {"scheme": "nino",
                                             "value": api.world.citizen_ids["nino"]},
              "fields": ["income_band"], "purpose": purpose})


def test_one_access_line_per_request_and_nothing_of_token_person_or_value(api: Api) -> None:
    with logged() as lines:
        released = query(api)
        agreement = api.client.get("/v1/agreements/1", headers=api.auth("officer:GOV/DWP"))
    assert released.status_code == 200, released.text
    assert agreement.status_code == 200, agreement.text

    first, second = (of_request(lines, a.headers["x-request-id"])
                     for a in (released, agreement))
    [line] = access(first)
    assert {k: line[k] for k in ("method", "route", "status", "organisation", "role",
                                 "client", "log_level")} == {
        "method": "POST", "route": "/v1/queries", "status": 200, "organisation": "GOV/DWP",
        "role": "officer", "client": "127.0.0.1", "log_level": "info"}
    assert 0 < line["duration_ms"] < 60_000
    [line] = access(second)
    assert (line["route"], line["organisation"]) == ("/v1/agreements/{agreement_id}", "GOV/DWP")
    assert len(access(lines)) == 2

    written = json.dumps(lines)
    token = api.world.token("officer:GOV/DWP")
    secrets = [token, token.removeprefix("oo_"), api.world.citizen_ids["nino"],
               *(str(v) for v in released.json()["data"].values() if len(str(v)) > 3)]
    for secret in secrets:
        assert secret not in written, secret


def test_a_given_request_id_is_kept_and_in_every_line_and_the_problem_body(api: Api) -> None:
    with logged() as lines:
        refused = query(api, purpose="not-the-purpose", **{"X-Request-ID": "lb-7f3a.91:x"})

    body = assert_problem(refused, 403, "purpose_mismatch")
    assert refused.headers["x-request-id"] == body["request_id"] == "lb-7f3a.91:x"
    mine = of_request(lines, "lb-7f3a.91:x")
    assert [line["event"] for line in mine] == ["refused", "request"]
    assert mine[0] == {"event": "refused", "route": "/v1/queries", "code": "purpose_mismatch",
                       "request_id": "lb-7f3a.91:x", "log_level": "info"}
    assert (mine[1]["status"], mine[1]["organisation"]) == (403, "GOV/DWP")
    assert [line for line in lines if "request_id" not in line] == []


def test_an_id_that_is_not_plainly_one_is_replaced(api: Api) -> None:
    for given in ("", "has space", "x" * 129, "-starts-with-a-dash", "semi;colon", "ünï"):
        answer = api.client.get("/no/such/route",
                                headers={"X-Request-ID": given.encode()})
        made = answer.headers["x-request-id"]
        assert made != given and len(made) == 32 and int(made, 16) >= 0
        assert assert_problem(answer, 404, "not_found")["request_id"] == made
    assert api.client.get("/healthz", headers={"X-Request-ID": "a" * 128}).headers[
        "x-request-id"] == "a" * 128


def test_a_refusal_before_any_route_names_the_request_too(api: Api) -> None:
    with logged() as lines:
        too_large = api.client.post("/v1/queries", content=b"{" * 70_000,
                                    headers={"Content-Type": "application/json",
                                             "X-Request-ID": "big-1"})
    body = assert_problem(too_large, 413, "body_too_large")
    assert body["request_id"] == "big-1"
    [line] = access(of_request(lines, "big-1"))
    assert (line["status"], line["route"], line["organisation"]) == (413, "unmatched", None)
