"""An organisation's own public keys over a real server, on SQLite and PostgreSQL: its
guardian registers one (never a private key: refused, and neither stored, logged nor
audited), the JWKS tells hosted keys from registered ones, a request signed with a
registered key is accepted, and a retired key verifies until its overlap ends."""

from __future__ import annotations

import json
from contextlib import closing
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.client import OnceonlyClient
from onceonly.crypto.http_signatures import sign
from onceonly.crypto.signing import SigningKey
from tests.e2e.conftest import Api
from tests.e2e.test_api import (
    DWP_OFFICER,
    assert_denial_audited,
    audit_since,
    before,
    income_query,
)
from tests.support.logs import captured_logs
from tests.support.problems import assert_problem

DWP_GUARDIAN = "guardian:GOV/DWP"
KEYS = "/v1/members/GOV/DWP/keys"


def public(key: SigningKey) -> dict[str, Any]:
    jwk = key.key.as_dict(private=False)
    return {"kty": jwk["kty"], "crv": jwk["crv"], "x": jwk["x"]}


def register(api: Api, key: SigningKey, label: str = DWP_GUARDIAN, path: str = KEYS,
             **extra: Any) -> httpx.Response:
    return api.client.post(path, headers=api.auth(label), json={
        "jwk": public(key), "purposes": ["sign", "verify"]} | extra)


def registered_rows(api: Api) -> list[Any]:
    with api.exchange.engine.connect() as conn:
        return conn.execute(select(t.organisation_keys)).fetchall()


def signed_query(api: Api, key: SigningKey) -> httpx.Request:
    request = api.client.build_request("POST", "/v1/queries", json=income_query(api),
                                       headers=api.auth(DWP_OFFICER))
    sign(request, key.key.private_key, key.kid, request.read(), created=api.clock.now())
    return request


def test_a_guardian_registers_a_key_which_the_jwks_shows_as_not_hosted(api: Api) -> None:
    key = SigningKey.generate("GOV/DWP")
    was = before(api)
    response = register(api, key)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kid"] == key.kid and body["purposes"] == ["sign", "verify"]
    assert body["retired_at"] is None and body["not_after"] is None
    [entry] = audit_since(api, was.seq)
    assert (entry.action, entry.outcome, entry.actor_id) == ("key.register", "done",
                                                             api.principal(DWP_GUARDIAN).id)
    assert entry.detail["kid"] == key.kid and entry.detail["org"] == "GOV/DWP"
    document = api.client.get("/.well-known/jwks/GOV/DWP.json").json()
    by_kid = {k["kid"]: k for k in document["keys"]}
    assert by_kid[key.kid]["hosted"] is False and by_kid[key.kid]["org"] == "GOV/DWP"
    with api.exchange.engine.connect() as conn:
        hosted = set(conn.execute(select(t.signing_keys.c.kid)
                                  .where(t.signing_keys.c.org_id == "GOV/DWP")).scalars())
    assert hosted and all(by_kid[kid]["hosted"] is True for kid in hosted)
    listed = api.client.get(KEYS, headers=api.auth(DWP_GUARDIAN)).json()
    assert key.kid in [k["kid"] for k in listed["registered"]] and listed["hosted"]
    # The same key again: refused, audited, nothing more stored.
    again = before(api)
    assert_problem(register(api, key), 409, "already_exists")
    assert_denial_audited(api, again, "already_exists", "key.register")
    assert len([r for r in registered_rows(api) if r.kid == key.kid]) == 1


def test_a_private_key_is_refused_and_neither_stored_logged_nor_audited(api: Api) -> None:
    key = SigningKey.generate("GOV/DWP")
    private = key.private_jwk()
    secret = private["d"]
    was, rows = before(api), registered_rows(api)
    with captured_logs() as logs:
        response = api.client.post(KEYS, headers=api.auth(DWP_GUARDIAN), json={
            "jwk": private, "purposes": ["sign"]})
    assert_problem(response, 422, "private_key_refused")
    assert secret not in response.text
    assert registered_rows(api) == rows
    entry = assert_denial_audited(api, was, "private_key_refused", "key.register")
    assert secret not in json.dumps(entry._asdict(), default=str)
    # the refusal's own lines were captured, and the key is in none of them
    assert [line["code"] for line in logs if line["event"] == "refused"] == [
        "private_key_refused"]
    assert secret not in repr(logs)
    with api.exchange.engine.connect() as conn:  # nowhere in any table the key could be in
        for table in (t.organisation_keys, t.signing_keys, t.audit_log):
            assert secret not in repr(conn.execute(select(table)).fetchall())


@pytest.mark.parametrize(("jwk", "code"), [
    ({"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
      "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}, "unsupported_key"),
    ({"kty": "OKP", "crv": "X25519", "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"},
     "unsupported_key"),
    ({"kty": "OKP", "crv": "Ed25519", "x": "too-short"}, "invalid_jwk"),
    ({"kty": "OKP", "crv": "Ed25519"}, "invalid_jwk"),
    ({"kty": "RSA", "n": "0vx7", "e": "AQAB", "d": "X4cT", "p": "83i-"},
     "private_key_refused"),
])
def test_a_key_that_is_not_an_ed25519_public_jwk_is_refused(api: Api, jwk: dict[str, Any],
                                                           code: str) -> None:
    was, rows = before(api), registered_rows(api)
    response = api.client.post(KEYS, headers=api.auth(DWP_GUARDIAN),
                               json={"jwk": jwk, "purposes": ["verify"]})
    assert_problem(response, 422, code)
    assert registered_rows(api) == rows
    assert_denial_audited(api, was, code, "key.register")


@pytest.mark.parametrize(("label", "code"), [("guardian:GOV/HMRC", "not_your_organisation"),
                                             (DWP_OFFICER, "role_not_allowed")])
def test_only_the_organisations_guardian_registers_its_keys(api: Api, label: str,
                                                            code: str) -> None:
    was, rows = before(api), registered_rows(api)
    assert_problem(register(api, SigningKey.generate("GOV/DWP"), label), 403, code)
    assert registered_rows(api) == rows
    assert_denial_audited(api, was, code, "key.register")


def test_a_request_signed_with_a_registered_key_is_accepted_until_its_overlap_ends(
        api: Api) -> None:
    old, new = SigningKey.generate("GOV/DWP"), SigningKey.generate("GOV/DWP")
    assert register(api, old).status_code == 201
    assert api.client.send(signed_query(api, old)).status_code == 200
    with closing(OnceonlyClient(api.base_url, api.world.token(DWP_OFFICER),
                                signing_key=old)) as client:
        assert client.agreements()
    # Rotated: the old key is retired with a day's overlap, in one audited step.
    was = before(api)
    rotated = register(api, new, replaces=old.kid, overlap_hours=24)
    assert rotated.status_code == 201, rotated.text
    [entry] = audit_since(api, was.seq)
    assert entry.action == "key.rotate" and entry.detail["replaces"] == old.kid
    assert api.client.send(signed_query(api, new)).status_code == 200
    assert api.client.send(signed_query(api, old)).status_code == 200  # in its overlap
    api.clock.advance(timedelta(hours=25))
    try:
        assert_problem(api.client.send(signed_query(api, old)), 401, "signature_invalid")
        assert api.client.send(signed_query(api, new)).status_code == 200
        kids = {k["kid"] for k in api.client.get("/.well-known/jwks.json").json()["keys"]}
        assert new.kid in kids and old.kid not in kids
    finally:
        api.clock.advance(timedelta(hours=-25))


def test_retiring_a_key_is_audited_and_cannot_be_done_twice(api: Api) -> None:
    key = SigningKey.generate("GOV/DWP")
    assert register(api, key).status_code == 201
    was = before(api)
    response = api.client.post(f"{KEYS}/{key.kid}/retire", headers=api.auth(DWP_GUARDIAN),
                               json={"overlap_hours": 0})
    assert response.status_code == 200, response.text
    assert response.json()["not_after"] == response.json()["retired_at"]
    [entry] = audit_since(api, was.seq)
    assert (entry.action, entry.detail["kid"]) == ("key.retire", key.kid)
    assert_problem(api.client.send(signed_query(api, key)), 401, "signature_invalid")
    again = before(api)
    assert_problem(api.client.post(f"{KEYS}/{key.kid}/retire", headers=api.auth(DWP_GUARDIAN),
                                   json={}), 409, "key_retired")
    assert_denial_audited(api, again, "key_retired", "key.retire")
    assert_problem(api.client.post(f"{KEYS}/{key.kid}/retire",
                                   headers=api.auth("guardian:GOV/HMRC"), json={}),
                   403, "not_your_organisation")


def test_a_key_registered_only_to_verify_does_not_sign_requests(api: Api) -> None:
    key = SigningKey.generate("GOV/DWP")
    assert register(api, key, purposes=["verify"]).status_code == 201
    assert_problem(api.client.send(signed_query(api, key)), 401, "signature_invalid")
