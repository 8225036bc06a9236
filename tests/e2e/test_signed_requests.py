"""Organisation-to-organisation authentication with HTTP Message Signatures (RFC 9421), end
to end: a real server, on SQLite and PostgreSQL. A signed query is answered; the same
request replayed, a stale one, one signed by another organisation than the token's, or a
tampered one is refused with 401 and `{code, detail}`, audited, and changes nothing; where
signatures are required, an unsigned request is refused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from onceonly.adapters.db import tables as t
from onceonly.adapters.keystore import add_signing_key
from onceonly.client import ExchangeError, OnceonlyClient
from onceonly.crypto.http_signatures import sign
from onceonly.crypto.signing import SigningKey
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running
from tests.e2e.conftest import Api
from tests.e2e.test_api import (
    DWP_OFFICER,
    HMRC_GUARDIAN,
    assert_denial_audited,
    assert_unchanged,
    before,
    income_query,
)
from tests.support.problems import assert_problem

ACTION = "auth.signature"


@pytest.fixture(scope="module")
def keys(api: Api) -> dict[str, SigningKey]:
    """A request-signing key for DWP and one for HMRC, as each organisation would hold."""
    with api.exchange.engine.begin() as conn:
        return {org: add_signing_key(conn, org, api.clock.now(),
                                     envelopes=api.exchange.envelopes)
                for org in ("GOV/DWP", "GOV/HMRC")}


def signed_query(api: Api, key: SigningKey, label: str = DWP_OFFICER, *,
                 created: Any = None, body: dict[str, Any] | None = None) -> httpx.Request:
    request = api.client.build_request("POST", "/v1/queries", json=body or income_query(api),
                                       headers=api.auth(label))
    sign(request, key.key.private_key, key.kid, request.read(), created=created)
    return request


def test_a_signed_query_is_answered(api: Api, keys: dict[str, SigningKey]) -> None:
    with closing(OnceonlyClient(api.base_url, api.world.token(DWP_OFFICER),
                                signing_key=keys["GOV/DWP"])) as client:
        release = client.query(1, "nino", api.world.citizen_ids["nino"], ["income_band"],
                               "benefit-entitlement")
        assert set(release.data) == {"income_band"}
        assert client.agreements()  # a GET, signed without a body


def test_a_replayed_signed_request_is_refused_and_audited(
        api: Api, keys: dict[str, SigningKey]) -> None:
    request = signed_query(api, keys["GOV/DWP"])
    assert api.client.send(request).status_code == 200
    was = before(api)
    replay = api.client.send(request)
    assert_problem(replay, 401, "signature_replayed")
    assert replay.headers["www-authenticate"] == "Signature"
    assert_unchanged(api, was)
    row = assert_denial_audited(api, was, "signature_replayed", ACTION)
    assert row.detail["path"] == "/v1/queries"


def test_a_stale_signature_is_refused(api: Api, keys: dict[str, SigningKey]) -> None:
    was = before(api)
    request = signed_query(api, keys["GOV/DWP"], created=api.clock.now() - timedelta(minutes=6))
    assert_problem(api.client.send(request), 401, "signature_stale")
    assert_unchanged(api, was)
    assert_denial_audited(api, was, "signature_stale", ACTION)


def test_a_request_signed_by_another_organisation_is_refused(
        api: Api, keys: dict[str, SigningKey]) -> None:
    was = before(api)
    request = signed_query(api, keys["GOV/HMRC"])  # HMRC's signature, DWP's officer
    assert_problem(api.client.send(request), 401, "signature_org_mismatch")
    assert_unchanged(api, was)
    row = assert_denial_audited(api, was, "signature_org_mismatch", ACTION)
    assert (row.org_id, row.detail["signed_by"]) == ("GOV/DWP", "GOV/HMRC")


def test_a_tampered_body_is_refused(api: Api, keys: dict[str, SigningKey]) -> None:
    was = before(api)
    request = signed_query(api, keys["GOV/DWP"])
    tampered = api.client.build_request(
        "POST", "/v1/queries", content=request.read().replace(b'"agreement_id":1',
                                                              b'"agreement_id":2'),
        headers=request.headers)
    assert_problem(api.client.send(tampered), 401, "signature_invalid")
    assert_unchanged(api, was)
    assert_denial_audited(api, was, "signature_invalid", ACTION)


def test_a_retired_key_no_longer_signs_for_its_organisation(api: Api) -> None:
    with api.exchange.engine.begin() as conn:
        old = add_signing_key(conn, "GOV/DWP", api.clock.now(), envelopes=api.exchange.envelopes)
        conn.execute(update(t.signing_keys).where(t.signing_keys.c.kid == old.kid)
                     .values(active=False))
    was = before(api)
    assert_problem(api.client.send(signed_query(api, old)), 401, "signature_invalid")
    assert_denial_audited(api, was, "signature_invalid", ACTION)


def test_a_key_retired_after_use_is_refused_on_the_very_next_request(api: Api) -> None:
    """The server keeps the key it has read, but whether it is still active is checked
    with every request's nonce: a retirement made elsewhere holds at once."""
    with api.exchange.engine.begin() as conn:
        key = add_signing_key(conn, "GOV/DWP", api.clock.now(), envelopes=api.exchange.envelopes)
    assert api.client.send(signed_query(api, key)).status_code == 200
    with api.exchange.engine.begin() as conn:
        conn.execute(update(t.signing_keys).where(t.signing_keys.c.kid == key.kid)
                     .values(active=False))
    was = before(api)
    assert_problem(api.client.send(signed_query(api, key)), 401, "signature_invalid")
    assert_denial_audited(api, was, "signature_invalid", ACTION)


@pytest.fixture(scope="module")
def strict(api: Api) -> Iterator[str]:
    """A second server over the same exchange, where every caller must sign."""
    with running(create_app(api.exchange, integrate_every=0, require_signatures=True)) as url:
        yield url


def test_where_signatures_are_required_unsigned_requests_are_refused(
        api: Api, strict: str, keys: dict[str, SigningKey]) -> None:
    was = before(api)
    with httpx.Client(base_url=strict, timeout=30) as http:
        assert_problem(http.post("/v1/queries", json=income_query(api),
                                 headers=api.auth(DWP_OFFICER)), 401, "signature_required")
        assert_denial_audited(api, was, "signature_required", ACTION)
        assert_problem(http.get("/v1/agreements", headers=api.auth(HMRC_GUARDIAN)),
                       401, "signature_required")
        assert http.get("/healthz").status_code == 200  # public routes stay public
        assert http.get("/v1/catalogue").status_code == 200
    with closing(OnceonlyClient(strict, api.world.token(DWP_OFFICER),
                                signing_key=keys["GOV/DWP"])) as client:
        assert client.query(1, "nino", api.world.citizen_ids["nino"], ["income_band"],
                            "benefit-entitlement").data


def test_signatures_required_of_one_organisation(api: Api) -> None:
    app = create_app(api.exchange, integrate_every=0, require_signatures=frozenset({"GOV/DWP"}))
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        was = before(api)
        assert_problem(http.post("/v1/queries", json=income_query(api),
                                 headers=api.auth(DWP_OFFICER)), 401, "signature_required")
        assert_unchanged(api, was)
        row = assert_denial_audited(api, was, "signature_required", ACTION)
        assert row.org_id == "GOV/DWP"
        assert http.get("/v1/agreements", headers=api.auth(HMRC_GUARDIAN)).status_code == 200


def test_the_client_reports_a_refusal(api: Api, strict: str) -> None:
    with closing(OnceonlyClient(strict, api.world.token(DWP_OFFICER))) as client, \
            pytest.raises(ExchangeError) as refused:
        client.agreements()
    assert refused.value.code == "signature_required"
