"""Every signature bound to its signer, checked from outside as an integrator would.

A release must be signed by its agreement's provider, a webhook by the exchange's operator:
a valid signature by any other organisation's key (every key is in the one JWKS) is
refused, by the Python client and by a verifier in another language (Node's standard
library only). The keys are served per organisation, with validators for caching.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, closing
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from onceonly.adapters.db.data_keys import write_transaction
from onceonly.adapters.keystore import add_signing_key
from onceonly.client import OnceonlyClient
from onceonly.crypto.signing import SignatureInvalid, SigningKey, verify_detached
from onceonly.crypto.standard_webhooks import SignedWebhook
from onceonly.demo.stores import connector_configs, linked_people, open_stores
from onceonly.entrypoints.api.server import running
from onceonly.entrypoints.demo.receivers import WebhookKeys, receiver_app
from onceonly.services.delivery import Outgoing
from tests.conftest import WORLD_PEOPLE
from tests.e2e.conftest import Api
from tests.support.problems import assert_problem

NODE_VERIFIER = Path(__file__).parent / "node" / "verify.mjs"
DWP_OFFICER = "officer:GOV/DWP"
INCOME = (1, "nino", ["income_band"], "benefit-entitlement")  # agreement 1: HMRC provides
OPERATOR = "GOV/EXCHANGE"


def node(*args: str, stdin: bytes) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("node")
    assert binary, "Node.js is needed for the outside verifier: apt-get install nodejs"
    return subprocess.run([binary, str(NODE_VERIFIER), *args], input=stdin.decode(),
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def forger(api: Api) -> Iterator[str]:
    """A man in the middle who holds COM/ACME's private key: it passes every request on to
    the exchange and signs each release again with ACME's key. The signature is valid, and
    ACME's key is in the exchange's JWKS; only its signer is wrong."""
    app = FastAPI()
    upstream = httpx.AsyncClient(base_url=api.base_url, timeout=30)

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def relay(path: str, request: Request) -> Response:
        answer = await upstream.request(request.method, f"/{path}", params=request.query_params,
                                        content=await request.body(), headers={
            k: v for k, v in request.headers.items() if k.lower() in {
                "authorization", "content-type"}})
        headers = {k: v for k, v in answer.headers.items()
                   if k.lower() in {"content-type", "onceonly-signature"}}
        if path == "v1/queries" and answer.status_code == 200:
            headers["onceonly-signature"] = api.exchange.key_store.sign_for("COM/ACME",
                                                                       answer.content)[0]
        return Response(answer.content, answer.status_code, headers=headers)

    with running(app) as url:
        yield url


def released(api: Api) -> httpx.Response:
    response = api.client.post("/v1/queries", headers=api.auth(DWP_OFFICER), json={
        "agreement_id": INCOME[0], "subject": {"scheme": "nino",
                                               "value": api.world.citizen_ids["nino"]},
        "fields": INCOME[2], "purpose": INCOME[3]})
    assert response.status_code == 200, response.text
    return response


# --- releases: bound to the agreement's provider -----------------------------------------


def test_the_client_refuses_a_release_signed_by_another_organisations_key(
        api: Api, forger: str) -> None:
    nino = api.world.citizen_ids["nino"]
    with closing(OnceonlyClient(api.base_url, api.world.token(DWP_OFFICER))) as honest:
        release = honest.query(INCOME[0], INCOME[1], nino, INCOME[2], INCOME[3])
    assert release.provider == "GOV/HMRC"
    hmrc_kids = {k["kid"] for k in api.exchange.key_store.jwks("GOV/HMRC")["keys"]}
    assert release.signed_by in hmrc_kids
    with closing(OnceonlyClient(forger, api.world.token(DWP_OFFICER))) as fooled, \
            pytest.raises(SignatureInvalid, match="GOV/HMRC"):
        fooled.query(INCOME[0], INCOME[1], nino, INCOME[2], INCOME[3])


def test_a_verifier_in_node_checks_the_release_against_its_providers_keys_only(
        api: Api) -> None:
    response = released(api)
    genuine = node("release", api.base_url, "GOV/HMRC",
                   response.headers["Onceonly-Signature"], stdin=response.content)
    assert genuine.returncode == 0, genuine.stdout + genuine.stderr
    assert genuine.stdout.strip() in {k["kid"] for k in api.exchange.key_store.jwks("GOV/HMRC")[
        "keys"]}

    forged = api.exchange.key_store.sign_for("COM/ACME", response.content)[0]
    refused = node("release", api.base_url, "GOV/HMRC", forged, stdin=response.content)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "is not a key of GOV/HMRC" in refused.stdout
    tampered = node("release", api.base_url, "GOV/HMRC",
                    response.headers["Onceonly-Signature"], stdin=response.content + b" ")
    assert (tampered.returncode, tampered.stdout.strip()) == (
        1, "refused: the signature does not verify")


# --- the published keys ------------------------------------------------------------------


def test_each_organisation_has_a_jwks_of_its_own_with_validators(api: Api) -> None:
    response = api.client.get("/.well-known/jwks/GOV/HMRC.json")
    assert response.status_code == 200, response.text
    keys = response.json()["keys"]
    assert keys and {k["org"] for k in keys} == {"GOV/HMRC"}
    assert all((k["alg"], k["crv"], k["use"]) == ("Ed25519", "Ed25519", "sig") and "d" not in k
               for k in keys)
    etag = response.headers["ETag"]
    assert etag.startswith('"') and "max-age" in response.headers["Cache-Control"]

    unchanged = api.client.get("/.well-known/jwks/GOV/HMRC.json",
                               headers={"If-None-Match": etag})
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    assert unchanged.headers["ETag"] == etag
    weak = api.client.get("/.well-known/jwks/GOV/HMRC.json",
                          headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    stale = api.client.get("/.well-known/jwks/GOV/HMRC.json",
                           headers={"If-None-Match": '"not-it"'})
    assert stale.status_code == 200 and stale.json() == response.json()

    everyone = api.client.get("/.well-known/jwks.json")
    orgs = {k["org"] for k in everyone.json()["keys"]}
    assert {"GOV/HMRC", "COM/ACME", OPERATOR} <= orgs
    assert everyone.headers["ETag"] != etag
    assert api.client.get("/.well-known/jwks.json", headers={
        "If-None-Match": everyone.headers["ETag"]}).status_code == 304


def test_a_new_key_changes_its_organisations_etag_and_no_other(api: Api) -> None:
    hmrc = api.client.get("/.well-known/jwks/GOV/HMRC.json").headers["ETag"]
    acme = api.client.get("/.well-known/jwks/COM/ACME.json").headers["ETag"]
    everyone = api.client.get("/.well-known/jwks.json").headers["ETag"]
    with write_transaction(api.exchange.engine) as conn:
        added = add_signing_key(conn, "COM/ACME", api.clock.now(),
                                envelopes=api.exchange.envelopes)
    again = api.client.get("/.well-known/jwks/COM/ACME.json", headers={"If-None-Match": acme})
    assert again.status_code == 200 and added.kid in {k["kid"] for k in again.json()["keys"]}
    assert api.client.get("/.well-known/jwks.json", headers={
        "If-None-Match": everyone}).status_code == 200
    assert api.client.get("/.well-known/jwks/GOV/HMRC.json", headers={
        "If-None-Match": hmrc}).status_code == 304


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/.well-known/jwks/GOV/NOBODY.json", 404, "organisation_unknown"),
    ("/.well-known/jwks/gov/hmrc.json", 422, "invalid_request"),
])
def test_keys_of_an_organisation_that_has_none_are_not_found(api: Api, path: str, status: int,
                                                              code: str) -> None:
    assert_problem(api.client.get(path), status, code)


def test_the_openapi_document_describes_the_key_routes(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    one = paths["/.well-known/jwks/{org_class}/{org_code}.json"]["get"]
    assert {"200", "304", "404"} <= set(one["responses"])
    assert {"ETag", "Cache-Control"} <= set(one["responses"]["200"]["headers"])
    assert "/.well-known/jwks.json" in paths and "/.well-known/webhook-keys.json" in paths


# --- webhooks: Standard Webhooks v1a, bound to the operator --------------------------------


@pytest.fixture(scope="module")
def receivers(api: Api) -> Iterator[tuple[str, dict]]:
    """The demo organisations' webhook receivers; DVLA's endpoint pointed at them."""
    with ExitStack() as stack:
        stores = open_stores(connector_configs(api.exchange.engine), stack)
        url = stack.enter_context(running(receiver_app(stores, WebhookKeys(api.base_url))))
        response = api.client.put("/v1/notification-endpoint",
                                  headers=api.auth("guardian:GOV/DVLA"),
                                  json={"url": f"{url}/receivers/GOV/DVLA"})
        assert response.status_code == 204, response.text
        yield url, stores


@pytest.fixture(scope="module")
def delivery(api: Api, receivers) -> Outgoing:
    """A real notification to DVLA, claimed from the outbox and signed by the worker."""
    person = next(p for p in linked_people(api.exchange.engine, WORLD_PEOPLE)
                  if "driver" in p.ids)
    response = api.client.post("/v1/events", headers=api.auth("officer:GOV/GRO"), json={
        "specversion": "1.0", "id": "signers-death-1", "source": "GOV/GRO/deaths",
        "type": "gov.onceonly.death.registered", "subject": f"grn:{person.ids['grn']}",
        "data": {"full_name": person.full_name, "date_of_death": "2026-11-20"}})
    assert response.status_code == 202, response.text
    outgoing = api.exchange.delivery.claim(50)
    return next(o for o in outgoing if o.claim.delivery.receiver_id == "GOV/DVLA")


def post(url: str, body: bytes, signed: SignedWebhook) -> int:
    return httpx.post(url, content=body, timeout=30, headers={
        "Content-Type": "application/cloudevents+json", **signed.headers()}).status_code


def test_the_webhook_keys_are_the_operators_in_standard_webhooks_form(api: Api) -> None:
    response = api.client.get("/.well-known/webhook-keys.json")
    assert response.status_code == 200 and "ETag" in response.headers
    published = response.json()
    assert published["org"] == OPERATOR and published["keys"]
    jwks = {k["kid"]: k for k in api.exchange.key_store.jwks(OPERATOR)["keys"]}
    for key in published["keys"]:
        assert key["key"].startswith("whpk_") and key["kid"] in jwks


def test_a_receiver_takes_a_real_delivery_and_refuses_tampering_strangers_and_replays(
        api: Api, receivers, delivery: Outgoing) -> None:
    _base, stores = receivers
    url, body, signed = delivery.claim.url, delivery.body, delivery.signature
    event = json.loads(body)
    dvla = stores["GOV/DVLA"]
    assert signed.msg_id == delivery.claim.delivery.id and signed.signature.startswith("v1a,")
    # deprecated, sent for one more release: the detached JWS of the body, by the operator
    verify_detached(signed.jws, body, api.exchange.key_store.jwks(), OPERATOR)

    assert post(url, body[:-1] + b',"extra":1}', signed) == 401  # the body tampered with
    impostor = SigningKey.generate(OPERATOR)  # says it is the operator: not in the keys
    assert post(url, body, SignedWebhook(signed.msg_id, signed.timestamp, impostor.sign_webhook(
        signed.msg_id, signed.timestamp, body), signed.jws)) == 401
    provider = api.exchange.key_store.sign_webhook_for("GOV/HMRC", signed.msg_id,
                                                  api.clock.now(), body)
    assert post(url, body, provider) == 401  # a real key, of the wrong organisation
    replay = api.exchange.key_store.sign_webhook_for(OPERATOR, signed.msg_id,
                                                api.clock.now() - timedelta(minutes=6), body)
    assert post(url, body, replay) == 401  # captured six minutes ago: outside the tolerance
    assert post(url, body, SignedWebhook(signed.msg_id, signed.timestamp + 1, signed.signature,
                                         signed.jws)) == 401  # another time, same signature
    assert not dvla.applied_for(event["subject"]), "nothing refused was applied"

    assert post(url, body, signed) == 204
    assert [a["event_id"] for a in dvla.applied_for(event["subject"])] == [event["id"]]


def test_a_verifier_in_node_checks_a_webhook_with_the_published_keys(
        api: Api, delivery: Outgoing) -> None:
    body, signed = delivery.body, delivery.signature
    ok = node("webhook", api.base_url, signed.msg_id, str(signed.timestamp), signed.signature,
              stdin=body)
    assert (ok.returncode, ok.stdout.strip()) == (0, signed.msg_id), ok.stdout + ok.stderr
    tampered = node("webhook", api.base_url, signed.msg_id, str(signed.timestamp),
                    signed.signature, stdin=body + b" ")
    assert tampered.returncode == 1
    provider = api.exchange.key_store.sign_webhook_for("GOV/HMRC", signed.msg_id, api.clock.now(),
                                                  body)
    stranger = node("webhook", api.base_url, signed.msg_id, str(provider.timestamp),
                    provider.signature, stdin=body)
    assert stranger.returncode == 1 and "no v1a signature" in stranger.stdout
