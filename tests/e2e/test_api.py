"""The HTTP API end to end: a real server on a real socket, over the demo world, on SQLite
and on PostgreSQL. Every refusal is checked three ways: the status and `{code, detail}`,
that nothing changed in the database, and that it was audited (or, for a body that never
parsed, that it was not)."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, insert, select, update

from onceonly.adapters.db import tables as t
from onceonly.crypto.tokens import new_token, token_digest
from onceonly.demo.seed import TOKEN_DAYS
from tests.e2e.conftest import Api
from tests.support.problems import assert_problem

DWP_OFFICER = "officer:GOV/DWP"
HMRC_GUARDIAN = "guardian:GOV/HMRC"
INCOME = "GOV/HMRC/income"
INCOME_BANDS = {"0-12570", "12571-50270", "50271-125140", "125141+"}
TEN_MB = 10 * 1024 * 1024


# --- what the database holds, before and after ------------------------------------------


@dataclass(frozen=True)
class Before:
    state: dict[str, Any]
    seq: int


def db_state(api: Api) -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    with api.exchange.engine.connect() as conn:
        return {
            "agreements": [tuple(r) for r in conn.execute(
                select(t.agreements.c.id, t.agreements.c.status, t.agreements.c.version,
                       t.agreements.c.approvals).order_by(t.agreements.c.id))],
            "transitions": conn.execute(
                select(func.count()).select_from(t.agreement_transitions)).scalar_one(),
            "usage": [tuple(r) for r in conn.execute(
                select(t.query_usage.c.agreement_id, t.query_usage.c.day,
                       t.query_usage.c.count)
                .order_by(t.query_usage.c.agreement_id, t.query_usage.c.day))],
            "tokens": conn.execute(
                select(func.count()).select_from(t.api_tokens)).scalar_one(),
        }


def last_seq(api: Api) -> int:
    with api.exchange.engine.connect() as conn:
        return int(conn.execute(select(func.max(t.audit_log.c.seq))).scalar() or 0)


def audit_since(api: Api, seq: int) -> list[Any]:
    with api.exchange.engine.connect() as conn:
        return conn.execute(
            select(t.audit_log).where(t.audit_log.c.seq > seq).order_by(t.audit_log.c.seq)
        ).fetchall()


def before(api: Api) -> Before:
    return Before(db_state(api), last_seq(api))


def assert_unchanged(api: Api, was: Before) -> None:
    assert db_state(api) == was.state


def assert_not_audited(api: Api, was: Before) -> None:
    assert audit_since(api, was.seq) == []


def assert_denial_audited(api: Api, was: Before, code: str, action: str) -> Any:
    rows = audit_since(api, was.seq)
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row.action, row.outcome, row.reason) == (action, "deny", code)
    return row


# --- requests ----------------------------------------------------------------------------


def income_query(api: Api, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "agreement_id": 1,
        "subject": {"scheme": "nino", "value": api.world.citizen_ids["nino"]},
        "fields": ["income_band"],
        "purpose": "benefit-entitlement",
    }
    body.update(changes)
    return body


def query(api: Api, label: str | None, body: Any) -> httpx.Response:
    headers = api.auth(label) if label else {}
    return api.client.post("/v1/queries", json=body, headers=headers)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def draft_body(api: Api, *, dataset: str = INCOME, fields: list[dict[str, str]] | None = None,
               purpose: str = "benefit-entitlement", basis: str = "statutory-duty",
               risk: str | None = "medium", per_day: int = 1_000,
               valid_from: str | None = None, valid_until: str | None = None) -> dict[str, Any]:
    now = api.clock.now()
    body: dict[str, Any] = {
        "dataset_id": dataset,
        "fields": fields if fields is not None else [
            {"name": "income_band", "source": "annual_income", "transform": "income_band"}],
        "purpose": {"code": purpose, "text": "Assess entitlement to means-tested benefits"},
        "legal_basis": basis,
        "valid_from": valid_from or iso(now - timedelta(minutes=5)),
        "valid_until": valid_until or iso(now + timedelta(days=365)),
        "max_queries_per_day": per_day,
        "retention_days": 90,
    }
    if risk is not None:
        body["privacy_assessment"] = {
            "risk": risk, "summary": "minimum necessary; derived answer only",
            "assessed_by": "Privacy officer", "assessed_on": date.today().isoformat(),
        }
    return body


def create(api: Api, label: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.client.post("/v1/agreements", json=body, headers=api.auth(label))
    assert response.status_code == 201, response.text
    return response.json()


def step(api: Api, label: str, agreement_id: int, action: str,
         reason: str = "reviewed and justified") -> httpx.Response:
    return api.client.post(f"/v1/agreements/{agreement_id}/{action}",
                           json={"reason": reason}, headers=api.auth(label))


def moved(api: Api, label: str, agreement_id: int, action: str) -> dict[str, Any]:
    response = step(api, label, agreement_id, action)
    assert response.status_code == 200, response.text
    return response.json()


def active_income_agreement(api: Api, per_day: int = 1_000) -> int:
    """A fresh DWP <- HMRC income-band agreement, drafted, submitted and approved via the API."""
    agreement = create(api, DWP_OFFICER, draft_body(api, per_day=per_day))
    moved(api, DWP_OFFICER, agreement["id"], "submit")
    assert moved(api, HMRC_GUARDIAN, agreement["id"], "approve")["state"] == "active"
    return int(agreement["id"])


def agreement_row(api: Api, agreement_id: int) -> Any:
    with api.exchange.engine.connect() as conn:
        return conn.execute(
            select(t.agreements).where(t.agreements.c.id == agreement_id)).one()


# --- bad input on POST /v1/queries -------------------------------------------------------


def test_malformed_json_is_refused_unaudited(api: Api) -> None:
    was = before(api)
    response = api.client.post(
        "/v1/queries", content=b'{"agreement_id": 1, "fields": [',
        headers={**api.auth(DWP_OFFICER), "Content-Type": "application/json"})
    assert_problem(response, 422, "malformed_json")
    assert_unchanged(api, was)
    assert_not_audited(api, was)


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        pytest.param({"smuggled": "annual_income"}, "smuggled", id="unknown-extra-field"),
        pytest.param({"purpose": None}, "purpose", id="missing-purpose"),
        pytest.param({"subject": None}, "subject", id="missing-subject"),
        pytest.param({"agreement_id": "1"}, "agreement_id", id="agreement-id-as-string"),
        pytest.param({"agreement_id": 1.5}, "agreement_id", id="agreement-id-with-a-fraction"),
        pytest.param({"agreement_id": 0}, "agreement_id", id="agreement-id-zero"),
        pytest.param({"fields": "income_band"}, "fields", id="fields-as-string"),
        pytest.param({"fields": []}, "fields", id="empty-fields"),
        pytest.param({"fields": ["Income Band"]}, "fields", id="bad-field-name"),
        pytest.param({"subject": {"scheme": "nino"}}, "value", id="subject-without-value"),
        pytest.param({"subject": {"scheme": "nino", "value": "AB\u0000"}}, "value",
                     id="nul-byte-in-identifier"),
        pytest.param({"agreement_id": 2**40}, "agreement_id", id="agreement-id-too-large"),
    ],
)
def test_invalid_query_body_is_refused_unaudited(api: Api, change: dict[str, Any],
                                                 loc: str) -> None:
    body = income_query(api)
    for key, value in change.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    was = before(api)

    problem = assert_problem(query(api, DWP_OFFICER, body), 422, "invalid_request")

    assert loc in problem["detail"]
    assert any(loc in [str(p) for p in e["loc"]] for e in problem["errors"]), problem
    assert_unchanged(api, was)
    assert_not_audited(api, was)


def test_body_that_is_not_utf8_is_malformed(api: Api) -> None:
    was = before(api)
    response = api.client.post("/v1/queries", content=b'{"agreement_id": \xff}',
                               headers={**api.auth(DWP_OFFICER),
                                        "Content-Type": "application/json"})
    assert_problem(response, 422, "malformed_json")
    assert_unchanged(api, was)


@pytest.mark.parametrize("path", ["/v1/agreements/4398046511104",
                                  "/v1/agreements/4398046511104/revoke"])
def test_agreement_ids_beyond_the_database_range_are_invalid(api: Api, path: str) -> None:
    was = before(api)
    headers = api.auth("guardian:GOV/HMRC")
    if path.endswith("/revoke"):
        response = api.client.post(path, headers=headers, json={"reason": "x"})
    else:
        response = api.client.get(path, headers=headers)
    assert_problem(response, 422, "invalid_request")
    assert_unchanged(api, was)


def test_body_that_is_not_an_object_is_refused(api: Api) -> None:
    was = before(api)
    assert_problem(query(api, DWP_OFFICER, ["income_band"]), 422, "invalid_request")
    assert_unchanged(api, was)
    assert_not_audited(api, was)


@pytest.mark.parametrize(
    ("label", "change", "status", "code"),
    [
        pytest.param(DWP_OFFICER, {"agreement_id": 999_999}, 404, "agreement_unknown",
                     id="unknown-agreement"),
        pytest.param("officer:COM/ACME", {}, 403, "not_agreement_party",
                     id="another-organisations-agreement"),
        pytest.param(DWP_OFFICER, {"subject": {"scheme": "nino", "value": "ZZ999999Z"}},
                     404, "subject_unknown", id="unknown-subject"),
        pytest.param("guardian:GOV/DWP", {}, 403, "role_not_allowed", id="guardian-queries"),
        pytest.param(DWP_OFFICER, {"fields": ["annual_income"]}, 403,
                     "field_not_in_agreement", id="field-outside-agreement"),
        pytest.param(DWP_OFFICER, {"purpose": "fraud-detection"}, 403, "purpose_mismatch",
                     id="other-purpose"),
    ],
)
def test_policy_refusal_is_audited_and_releases_nothing(api: Api, label: str,
                                                        change: dict[str, Any], status: int,
                                                        code: str) -> None:
    was = before(api)

    problem = assert_problem(query(api, label, income_query(api, **change)), status, code)

    assert "data" not in problem
    assert_unchanged(api, was)
    row = assert_denial_audited(api, was, code, "query.decision")
    assert row.actor_id == api.principal(label).id
    assert row.values_hash is None


def test_ten_megabyte_body_with_content_length_is_refused(api: Api) -> None:
    body = b'{"agreement_id": 1, "purpose": "' + b"a" * TEN_MB + b'"}'
    was = before(api)

    response = api.client.post(
        "/v1/queries", content=body,
        headers={**api.auth(DWP_OFFICER), "Content-Type": "application/json"})

    assert_problem(response, 413, "body_too_large")
    assert_unchanged(api, was)
    assert_not_audited(api, was)


def test_ten_megabyte_streamed_body_without_content_length_is_refused(api: Api) -> None:
    def chunks():
        yield b'{"agreement_id": 1, "purpose": "'
        chunk = b"a" * 65_536
        for _ in range(TEN_MB // len(chunk)):
            yield chunk
        yield b'"}'

    request = api.client.build_request(
        "POST", "/v1/queries", content=chunks(),
        headers={**api.auth(DWP_OFFICER), "Content-Type": "application/json"})
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    was = before(api)

    response = api.client.send(request)

    assert_problem(response, 413, "body_too_large")
    assert_unchanged(api, was)
    assert_not_audited(api, was)
    # The connection that was cut off does not break the next request.
    assert query(api, DWP_OFFICER, income_query(api)).status_code == 200


def test_small_streamed_body_is_answered(api: Api) -> None:
    payload = json.dumps(income_query(api)).encode()
    response = api.client.post(
        "/v1/queries", content=iter([payload[:10], payload[10:]]),
        headers={**api.auth(DWP_OFFICER), "Content-Type": "application/json"})
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 200, response.text
    assert response.json()["data"]["income_band"] in INCOME_BANDS


# --- who is asking ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-header"),
        pytest.param({"Authorization": "Bearer"}, id="empty-bearer"),
        pytest.param({"Authorization": "Basic b2ZmaWNlcjpwYXNz"}, id="basic-scheme"),
    ],
)
def test_request_without_a_token_is_refused(api: Api, headers: dict[str, str]) -> None:
    was = before(api)
    response = api.client.post("/v1/queries", json=income_query(api), headers=headers)
    assert_problem(response, 401, "token_missing")
    assert response.headers["www-authenticate"] == "Bearer"
    assert_unchanged(api, was)
    assert_denial_audited(api, was, "token_missing", "auth")


def test_unknown_token_is_refused_and_audited(api: Api) -> None:
    token = new_token()
    was = before(api)

    response = api.client.post("/v1/queries", json=income_query(api),
                               headers={"Authorization": f"Bearer {token}"})

    assert_problem(response, 401, "token_invalid")
    assert response.headers["www-authenticate"] == "Bearer"
    assert_unchanged(api, was)
    row = assert_denial_audited(api, was, "token_invalid", "auth")
    assert row.actor_id is None
    assert token not in json.dumps(row.detail)
    assert row.detail["token_digest_prefix"] == token_digest(token)[:12]


def test_token_expired_in_the_database_is_refused_and_audited(api: Api) -> None:
    token = new_token()
    now = api.clock.now()
    with api.exchange.engine.begin() as conn:
        conn.execute(insert(t.api_tokens).values(
            digest=token_digest(token), principal_id=api.principal(DWP_OFFICER).id,
            issued_at=now - timedelta(days=TOKEN_DAYS + 1), expires_at=now - timedelta(days=1)))
    was = before(api)

    response = api.client.post("/v1/queries", json=income_query(api),
                               headers={"Authorization": f"Bearer {token}"})

    assert_problem(response, 401, "token_expired")
    assert_unchanged(api, was)
    assert_denial_audited(api, was, "token_expired", "auth")


def test_demo_token_expires_after_token_days(api: Api) -> None:
    was = before(api)
    api.clock.advance(timedelta(days=TOKEN_DAYS, minutes=1))
    try:
        response = query(api, DWP_OFFICER, income_query(api))
    finally:
        api.clock.offset -= timedelta(days=TOKEN_DAYS, minutes=1)

    assert_problem(response, 401, "token_expired")
    assert_unchanged(api, was)
    assert_denial_audited(api, was, "token_expired", "auth")
    # With the clock back, the same token works again.
    assert query(api, DWP_OFFICER, income_query(api)).status_code == 200


def test_token_revoked_in_the_database_is_refused_on_the_next_query(api: Api) -> None:
    token = new_token()
    now = api.clock.now()
    with api.exchange.engine.begin() as conn:
        conn.execute(insert(t.api_tokens).values(
            digest=token_digest(token), principal_id=api.principal(DWP_OFFICER).id,
            issued_at=now, expires_at=now + timedelta(days=1)))
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.post("/v1/queries", json=income_query(api),
                           headers=headers).status_code == 200
    with api.exchange.engine.begin() as conn:
        conn.execute(update(t.api_tokens).where(t.api_tokens.c.digest == token_digest(token))
                     .values(revoked_at=now))
    was = before(api)

    response = api.client.post("/v1/queries", json=income_query(api), headers=headers)

    assert_problem(response, 401, "token_revoked")
    assert_unchanged(api, was)
    assert_denial_audited(api, was, "token_revoked", "auth")


@pytest.mark.parametrize("token", [None, "unknown"], ids=["no-token", "unknown-token"])
def test_a_bad_token_is_refused_before_the_body_is_judged(api: Api, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {new_token()}"} if token else {}
    body = income_query(api, fields=[])
    was = before(api)

    response = api.client.post("/v1/queries", json=body, headers=headers)

    code = "token_invalid" if token else "token_missing"
    assert_problem(response, 401, code)
    assert_unchanged(api, was)
    assert_denial_audited(api, was, code, "auth")


# --- agreements ---------------------------------------------------------------------------


def test_officer_drafts_submits_and_guardian_approves(api: Api) -> None:
    was = before(api)

    draft = create(api, DWP_OFFICER, draft_body(api))
    assert (draft["status"], draft["provider"], draft["consumer"]) == \
        ("draft", "GOV/HMRC", "GOV/DWP")
    assert draft["approvals_required"] == 1
    submitted = moved(api, DWP_OFFICER, draft["id"], "submit")
    assert submitted["status"] == "submitted"
    approved = moved(api, HMRC_GUARDIAN, draft["id"], "approve")
    assert (approved["status"], approved["state"]) == ("approved", "active")
    assert approved["approvals"] == [api.principal(HMRC_GUARDIAN).id]

    seen = api.client.get(f"/v1/agreements/{draft['id']}", headers=api.auth(DWP_OFFICER))
    assert seen.status_code == 200
    history = seen.json()["history"]
    assert [(h["action"], h["from_status"], h["to_status"]) for h in history] == [
        ("create", None, "draft"), ("submit", "draft", "submitted"),
        ("approve", "submitted", "approved")]
    assert history[-1]["actor"] == api.principal(HMRC_GUARDIAN).id
    assert draft["id"] in [a["id"] for a in api.client.get(
        "/v1/agreements", headers=api.auth(HMRC_GUARDIAN)).json()]

    rows = audit_since(api, was.seq)
    assert [(r.action, r.outcome, r.agreement_id) for r in rows] == [
        ("agreement.create", "done", draft["id"]), ("agreement.submit", "done", draft["id"]),
        ("agreement.approve", "done", draft["id"])]
    assert db_state(api)["transitions"] == was.state["transitions"] + 3

    answer = query(api, DWP_OFFICER, income_query(api, agreement_id=draft["id"]))
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["income_band"] in INCOME_BANDS


def assert_lifecycle_refused(api: Api, agreement_id: int, label: str, action: str,
                             status: int, code: str, audited: bool = True) -> None:
    stored = agreement_row(api, agreement_id)
    was = before(api)

    assert_problem(step(api, label, agreement_id, action), status, code)

    after = agreement_row(api, agreement_id)
    assert (after.status, after.version, after.approvals) == \
        (stored.status, stored.version, stored.approvals)
    assert_unchanged(api, was)
    if audited:
        row = assert_denial_audited(api, was, code, f"agreement.{action}")
        assert row.actor_id == api.principal(label).id
    else:
        assert_not_audited(api, was)


def test_approving_a_draft_is_an_illegal_transition(api: Api) -> None:
    draft = create(api, DWP_OFFICER, draft_body(api))
    assert_lifecycle_refused(api, draft["id"], HMRC_GUARDIAN, "approve", 409,
                             "illegal_transition")
    assert agreement_row(api, draft["id"]).status == "draft"


def test_resuming_a_revoked_agreement_is_an_illegal_transition(api: Api) -> None:
    agreement_id = active_income_agreement(api)
    moved(api, HMRC_GUARDIAN, agreement_id, "revoke")
    assert_lifecycle_refused(api, agreement_id, HMRC_GUARDIAN, "resume", 409,
                             "illegal_transition")
    assert agreement_row(api, agreement_id).status == "revoked"
    assert_problem(query(api, DWP_OFFICER, income_query(api, agreement_id=agreement_id)),
                   403, "agreement_not_active")


@pytest.mark.parametrize(
    ("label", "status", "code"),
    [
        pytest.param("guardian:GOV/DWP", 403, "not_provider_guardian",
                     id="consumers-guardian"),
        pytest.param(DWP_OFFICER, 403, "not_provider_guardian", id="consumers-officer"),
        pytest.param("guardian:GOV/DVLA", 404, "agreement_unknown", id="outsiders-guardian"),
    ],
)
def test_only_a_guardian_of_the_provider_may_approve(api: Api, label: str, status: int,
                                                     code: str) -> None:
    draft = create(api, DWP_OFFICER, draft_body(api))
    moved(api, DWP_OFFICER, draft["id"], "submit")
    assert_lifecycle_refused(api, draft["id"], label, "approve", status, code)
    assert agreement_row(api, draft["id"]).status == "submitted"


@pytest.mark.parametrize(
    ("body", "code", "audited"),
    [
        pytest.param({}, "invalid_request", False, id="no-reason"),
        pytest.param({"reason": ""}, "invalid_request", False, id="empty-reason"),
        pytest.param({"reason": 42}, "invalid_request", False, id="reason-not-text"),
        pytest.param({"reason": "   "}, "reason_required", True, id="blank-reason"),
    ],
)
def test_a_lifecycle_step_needs_a_reason(api: Api, body: dict[str, Any], code: str,
                                         audited: bool) -> None:
    draft = create(api, DWP_OFFICER, draft_body(api))
    moved(api, DWP_OFFICER, draft["id"], "submit")
    stored = agreement_row(api, draft["id"])
    was = before(api)

    response = api.client.post(f"/v1/agreements/{draft['id']}/approve", json=body,
                               headers=api.auth(HMRC_GUARDIAN))

    assert_problem(response, 422, code)
    assert agreement_row(api, draft["id"]).version == stored.version
    assert_unchanged(api, was)
    if audited:
        assert_denial_audited(api, was, code, "agreement.approve")
    else:
        assert_not_audited(api, was)


def test_submitting_without_a_privacy_assessment_is_refused(api: Api) -> None:
    draft = create(api, DWP_OFFICER, draft_body(api, risk=None))
    assert draft["privacy_assessment"] is None
    assert_lifecycle_refused(api, draft["id"], DWP_OFFICER, "submit", 409,
                             "assessment_required")
    assert agreement_row(api, draft["id"]).status == "draft"


def fit_to_drive_body(api: Api, risk: str, condition: str | None = "explicit-consent",
                      ) -> dict[str, Any]:
    return draft_body(
        api, dataset="NHS/NHSE/patient-record",
        fields=[{"name": "fit_to_drive", "source": "conditions", "transform": "fit_to_drive"}],
        purpose="driver-medical-fitness", basis="consent", risk=risk,
    ) | ({} if condition is None else {"special_category_condition": condition})


def test_high_risk_agreement_needs_two_different_guardians(api: Api) -> None:
    first, second = "guardian:NHS/NHSE", "guardian-2:NHS/NHSE"
    draft = create(api, "officer:GOV/DVLA", fit_to_drive_body(api, "high"))
    assert draft["approvals_required"] == 2
    moved(api, "officer:GOV/DVLA", draft["id"], "submit")

    once = moved(api, first, draft["id"], "approve")
    assert (once["status"], once["approvals_required"]) == ("submitted", 2)
    assert once["approvals"] == [api.principal(first).id]
    assert agreement_row(api, draft["id"]).status == "submitted"

    assert_lifecycle_refused(api, draft["id"], first, "approve", 409, "duplicate_approval")
    assert agreement_row(api, draft["id"]).approvals == [api.principal(first).id]

    twice = moved(api, second, draft["id"], "approve")
    assert (twice["status"], twice["state"]) == ("approved", "active")
    assert twice["approvals"] == [api.principal(first).id, api.principal(second).id]
    assert [h["action"] for h in twice["history"]] == ["create", "submit", "approve", "approve"]


@pytest.mark.parametrize("risk", ["low", "medium"])
def test_special_category_data_with_a_lower_risk_assessment_cannot_be_submitted(
        api: Api, risk: str) -> None:
    draft = create(api, "officer:GOV/DVLA", fit_to_drive_body(api, risk))
    assert_lifecycle_refused(api, draft["id"], "officer:GOV/DVLA", "submit", 409,
                             "assessment_understates_risk")
    assert agreement_row(api, draft["id"]).status == "draft"


@pytest.mark.parametrize("label", ["officer:COM/ACME", "guardian:GOV/DVLA"])
def test_another_organisations_agreement_is_not_found(api: Api, label: str) -> None:
    was = before(api)
    seen = api.client.get("/v1/agreements/1", headers=api.auth(label))
    assert_problem(seen, 404, "agreement_unknown")
    assert_denial_audited(api, was, "agreement_unknown", "agreement.read")
    missing = api.client.get("/v1/agreements/999999", headers=api.auth(label))
    assert_problem(missing, 404, "agreement_unknown")  # existing and missing look the same
    listed = api.client.get("/v1/agreements", headers=api.auth(label))
    assert listed.status_code == 200
    assert 1 not in [a["id"] for a in listed.json()]


def _set(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**body, **changes}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        pytest.param(lambda b, api: _set(b, dataset_id="GOV/HMRC/salaries"), "unknown_dataset",
                     id="unknown-dataset"),
        pytest.param(lambda b, api: _set(b, fields=[
            {"name": "salary", "source": "salary"}]), "unknown_field", id="unknown-field"),
        pytest.param(lambda b, api: _set(b, fields=[
            {"name": "name_band", "source": "full_name", "transform": "income_band"}]),
            "transform_mismatch", id="transform-type-mismatch"),
        pytest.param(lambda b, api: _set(b, fields=[
            {"name": "income_band", "source": "annual_income", "transform": "rounded"}]),
            "unknown_transform", id="unknown-transform"),
        pytest.param(lambda b, api: _set(b, valid_until=iso(api.clock.now() - timedelta(days=1))),
                     "invalid_validity", id="valid-until-before-valid-from"),
        pytest.param(lambda b, api: _set(b, fields=[
            {"name": "band", "source": "annual_income", "transform": "income_band"},
            {"name": "band", "source": "annual_income", "transform": "income_band"}]),
            "duplicate_field", id="field-granted-twice"),
    ],
)
def test_invalid_draft_is_refused_and_audited(api: Api, change: Any, code: str) -> None:
    body = change(draft_body(api), api)
    was = before(api)

    response = api.client.post("/v1/agreements", json=body, headers=api.auth(DWP_OFFICER))

    assert_problem(response, 422, code)
    assert_unchanged(api, was)
    row = assert_denial_audited(api, was, code, "agreement.create")
    assert row.actor_id == api.principal(DWP_OFFICER).id


@pytest.mark.parametrize("field", ["valid_from", "valid_until"])
def test_naive_datetimes_are_refused_unaudited(api: Api, field: str) -> None:
    naive = (api.clock.now() + timedelta(days=30)).replace(tzinfo=None).isoformat()
    body = _set(draft_body(api), **{field: naive})
    was = before(api)

    response = api.client.post("/v1/agreements", json=body, headers=api.auth(DWP_OFFICER))

    problem = assert_problem(response, 422, "invalid_request")
    assert field in problem["detail"]
    assert_unchanged(api, was)
    assert_not_audited(api, was)


def test_a_provider_cannot_draft_for_a_consumer(api: Api) -> None:
    # HMRC's guardian drafting an agreement on HMRC's own dataset: nobody is the consumer.
    was = before(api)
    response = api.client.post("/v1/agreements", json=draft_body(api),
                               headers=api.auth(HMRC_GUARDIAN))
    assert_problem(response, 422, "self_agreement")
    assert_unchanged(api, was)
    assert_denial_audited(api, was, "self_agreement", "agreement.create")


# --- happy path and standards -------------------------------------------------------------


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def verify_independently(jwks: dict[str, Any], signature: str, body: bytes) -> dict[str, Any]:
    """RFC 7515 appendix F by hand: no JOSE library, only the Ed25519 primitive."""
    header_b64, payload_b64, signature_b64 = signature.split(".")
    assert payload_b64 == "", "a detached JWS leaves the payload part empty"
    header = json.loads(b64url_decode(header_b64))
    assert header["alg"] == "Ed25519"
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    assert (key["kty"], key["crv"]) == ("OKP", "Ed25519")
    assert "d" not in key, "the JWKS must not publish private keys"
    public = Ed25519PublicKey.from_public_bytes(b64url_decode(key["x"]))
    signing_input = f"{header_b64}.{b64url_encode(body)}".encode()
    public.verify(b64url_decode(signature_b64), signing_input)  # raises InvalidSignature
    return key


def test_release_is_signed_with_a_detached_jws_any_verifier_can_check(api: Api) -> None:
    response = query(api, DWP_OFFICER, income_query(api))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"release_id", "agreement_id", "subject", "data", "sources",
                         "released_at"}
    assert body["data"].keys() == {"income_band"}
    assert body["sources"] == {"income_band": "derived"}  # each field's source label
    assert body["data"]["income_band"] in INCOME_BANDS
    assert rfc8785.dumps(body) == response.content

    signature = response.headers["Onceonly-Signature"]
    header_b64, empty, _ = signature.split(".")
    assert empty == ""
    assert json.loads(b64url_decode(header_b64)).keys() >= {"alg", "kid"}
    jwks = api.client.get("/.well-known/jwks.json").json()
    key = verify_independently(jwks, signature, rfc8785.dumps(body))
    assert key["org"] == "GOV/HMRC", "signed with the provider's key"

    tampered = {**body, "data": {"income_band": next(iter(INCOME_BANDS - {
        body["data"]["income_band"]}))}}
    with pytest.raises(InvalidSignature):
        verify_independently(jwks, signature, rfc8785.dumps(tampered))
    with pytest.raises(InvalidSignature):
        verify_independently(jwks, signature, response.content + b" ")

    row = audit_since(api, last_seq(api) - 1)[-1]
    assert (row.action, row.outcome) == ("query.release", "permit")
    assert row.detail["release_id"] == body["release_id"]
    assert body["data"]["income_band"] not in json.dumps(row.detail)


def test_openapi_is_3_1_and_documents_bearer_auth(api: Api) -> None:
    response = api.client.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.1.")
    schemes = doc["components"]["securitySchemes"]
    bearer = [name for name, s in schemes.items()
              if s["type"] == "http" and s["scheme"].lower() == "bearer"]
    assert bearer
    operation = doc["paths"]["/v1/queries"]["post"]
    assert {name for req in operation["security"] for name in req} & set(bearer)
    assert "Onceonly-Signature" in operation["responses"]["200"]["headers"]
    assert {"403", "422", "429"} <= set(operation["responses"])


def test_healthz_needs_no_token(api: Api) -> None:
    response = api.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_catalogue_describes_fields_and_holds_no_person_data(api: Api) -> None:
    response = api.client.get("/v1/catalogue")
    assert response.status_code == 200
    catalogue = response.json()
    income = next(d for d in catalogue["datasets"] if d["id"] == INCOME)
    assert (income["provider"], income["subject_scheme"]) == ("GOV/HMRC", "nino")
    fields = {f["name"]: f for f in income["fields"]}
    assert (fields["annual_income"]["sensitivity"], fields["annual_income"]["source"]) == \
        ("personal", "verified")
    assert fields["address"]["source"] == "citizen-supplied"
    for dataset in catalogue["datasets"]:
        for field in dataset["fields"]:
            assert field["sensitivity"] in {"public", "personal", "special"}
            assert field["source"] in {"verified", "citizen-supplied", "derived"}
    nhs = next(d for d in catalogue["datasets"] if d["id"] == "NHS/NHSE/patient-record")
    assert {f["name"]: f["sensitivity"] for f in nhs["fields"]}["conditions"] == "special"
    assert "income_band" in {tr["name"] for tr in catalogue["transforms"]}
    assert "GOV/HMRC" in {o["id"] for o in catalogue["organisations"]}
    for value in api.world.citizen_ids.values():
        assert value not in response.text


def metric_samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def metric(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
           **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_show_audit_entries_waiting_outside_a_signed_head(api: Api) -> None:
    """The test server runs no integrator: to monitoring it looks like one that stopped."""
    def audit_gauges() -> tuple[float, float, float | None]:
        samples = metric_samples(api.client.get("/metrics", headers=api.auth("manager")).text)
        return (metric(samples, "onceonly_audit_entries"),
                metric(samples, "onceonly_audit_unsigned_entries"),
                samples.get(("onceonly_audit_head_age_seconds", frozenset())))

    api.exchange.audit.integrate()
    entries, unsigned, age = audit_gauges()
    assert entries > 0 and unsigned == 0
    assert age is not None and 0 <= age < 60
    assert query(api, DWP_OFFICER, income_query(api)).status_code == 200
    assert query(api, DWP_OFFICER, income_query(api, fields=["annual_income"])).status_code == 403

    assert audit_gauges()[:2] == (entries + 2, 2)  # a release and a refusal, both waiting
    api.exchange.audit.integrate()
    assert audit_gauges()[:2] == (entries + 2, 0)


@pytest.mark.parametrize(
    ("label", "status", "code"),
    [
        pytest.param(None, 401, "token_missing", id="anonymous"),
        pytest.param(DWP_OFFICER, 403, "role_not_allowed", id="officer"),
        pytest.param(HMRC_GUARDIAN, 403, "role_not_allowed", id="guardian"),
        pytest.param("citizen", 403, "role_not_allowed", id="citizen"),
    ],
)
def test_metrics_are_for_managers(api: Api, label: str | None, status: int,
                                  code: str) -> None:
    was = before(api)
    response = api.client.get("/metrics", headers=api.auth(label) if label else {})
    assert_problem(response, status, code)
    assert "onceonly_" not in response.text
    assert_denial_audited(api, was, code, "auth" if label is None else "metrics.read")


def test_metrics_count_decisions_and_requests(api: Api) -> None:
    def read() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        response = api.client.get("/metrics", headers=api.auth("manager"))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        return metric_samples(response.text)

    start = read()
    assert query(api, DWP_OFFICER, income_query(api)).status_code == 200
    assert query(api, DWP_OFFICER, income_query(
        api, fields=["annual_income"])).status_code == 403
    raw = api.client.get("/metrics", headers=api.auth("admin")).text
    end = metric_samples(raw)

    assert 'onceonly_decisions_total{outcome="deny",reason="field_not_in_agreement"}' in raw
    deny = {"outcome": "deny", "reason": "field_not_in_agreement"}
    assert metric(end, "onceonly_decisions_total", **deny) == \
        metric(start, "onceonly_decisions_total", **deny) + 1
    permit = {"outcome": "permit", "reason": ""}
    assert metric(end, "onceonly_decisions_total", **permit) == \
        metric(start, "onceonly_decisions_total", **permit) + 1
    for status in ("200", "403"):
        labels = {"method": "POST", "route": "/v1/queries", "status": status}
        assert metric(end, "onceonly_http_requests_total", **labels) == \
            metric(start, "onceonly_http_requests_total", **labels) + 1
    route = {"route": "/v1/queries"}
    assert metric(end, "onceonly_http_request_duration_seconds_count", **route) == \
        metric(start, "onceonly_http_request_duration_seconds_count", **route) + 2
    assert metric(end, "onceonly_http_request_duration_seconds_bucket",
                  le="+Inf", **route) == \
        metric(end, "onceonly_http_request_duration_seconds_count", **route)
    assert metric(end, "onceonly_http_request_duration_seconds_sum", **route) > 0


# --- quota ----------------------------------------------------------------------------------


def usage_today(api: Api, agreement_id: int) -> int:
    with api.exchange.engine.connect() as conn:
        return int(conn.execute(select(t.query_usage.c.count).where(
            t.query_usage.c.agreement_id == agreement_id,
            t.query_usage.c.day == api.clock.now().date())).scalar() or 0)


def outcomes(api: Api, agreement_id: int, seq: int) -> list[tuple[str, str | None]]:
    return [(r.outcome, r.reason) for r in audit_since(api, seq)
            if r.agreement_id == agreement_id]


def test_quota_allows_three_queries_a_day_then_refuses(api: Api) -> None:
    agreement_id = active_income_agreement(api, per_day=3)
    body = income_query(api, agreement_id=agreement_id)
    for _ in range(3):
        response = query(api, DWP_OFFICER, body)
        assert response.status_code == 200, response.text
    was = before(api)

    assert_problem(query(api, DWP_OFFICER, body), 429, "quota_exceeded")

    assert_unchanged(api, was)
    assert usage_today(api, agreement_id) == 3
    assert_denial_audited(api, was, "quota_exceeded", "query.decision")


def test_quota_holds_under_concurrent_requests(api: Api) -> None:
    agreement_id = active_income_agreement(api, per_day=5)
    body = income_query(api, agreement_id=agreement_id)
    headers = api.auth(DWP_OFFICER)
    seq = last_seq(api)

    def ask(_: int) -> int:
        with httpx.Client(base_url=api.base_url, timeout=60) as client:
            return client.post("/v1/queries", json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(ask, range(20)))

    assert sorted(statuses) == [200] * 5 + [429] * 15
    assert usage_today(api, agreement_id) == 5
    audited = outcomes(api, agreement_id, seq)
    assert audited.count(("permit", None)) == 5
    assert audited.count(("deny", "quota_exceeded")) == 15


# --- suspension -----------------------------------------------------------------------------


def test_suspension_refuses_the_next_query_and_resumption_restores_it(api: Api) -> None:
    agreement_id = active_income_agreement(api)
    body = income_query(api, agreement_id=agreement_id)
    assert query(api, DWP_OFFICER, body).status_code == 200

    assert moved(api, HMRC_GUARDIAN, agreement_id, "suspend")["status"] == "suspended"
    was = before(api)
    assert_problem(query(api, DWP_OFFICER, body), 403, "agreement_not_active")
    assert_unchanged(api, was)
    assert_denial_audited(api, was, "agreement_not_active", "query.decision")

    resumed = moved(api, HMRC_GUARDIAN, agreement_id, "resume")
    assert (resumed["status"], resumed["state"]) == ("approved", "active")
    answer = query(api, DWP_OFFICER, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["income_band"] in INCOME_BANDS
    assert usage_today(api, agreement_id) == 2
