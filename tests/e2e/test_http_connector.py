"""The HTTP connector against real provider APIs on loopback ports (tests/support/
provider_api.py), behind the real API server, on SQLite and PostgreSQL: HMRC's income
dataset is re-pointed from its SQL store to an API serving the same records, nested its own
way (its own names, found by JSON Pointer and JMESPath)."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, select, update

from onceonly.adapters.connectors.sql import store_table
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.engine import make_engine
from onceonly.config import operator_org
from onceonly.domain.errors import DomainError
from onceonly.services.ports.connectors import ConnectorUnusable
from tests.e2e.conftest import Api
from tests.e2e.test_mutual_tls import _issue, _write
from tests.e2e.test_web_manager_queue import console_of
from tests.support.problems import assert_problem
from tests.support.provider_api import ProviderApi

HMRC = "GOV/HMRC/income"
DWP_OFFICER = "officer:GOV/DWP"
COUNCIL_OFFICER = "officer:LA/NORTHSHIRE"

# How the exchange finds HMRC's fields in its API's answers.
HMRC_FIELDS = {
    "full_name": {"type": "string", "jmespath": "name.full", "param": "name"},
    "address": {"type": "string", "pointer": "/address", "param": "address"},
    "annual_income": {"type": "integer", "pointer": "/income/annual", "param": "income"},
    "tax_code": {"type": "string", "jmespath": "income.taxCode", "param": "income"},
    "child_benefit_claimant": {"type": "boolean", "pointer": "/childBenefit",
                               "param": "childBenefit"},
}


def hmrc_records(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """HMRC's records from its SQL store, as its API lays them out."""
    engine = make_engine(config["url"])
    table = store_table(MetaData(), config)
    with engine.connect() as conn:
        rows = conn.execute(select(table)).mappings().all()
    engine.dispose()
    return {row["nino"]: {"id": row["nino"], "name": {"full": row["full_name"]},
                          "address": row["address"],
                          "income": {"annual": row["annual_income"],
                                     "taxCode": row["tax_code"]},
                          "childBenefit": row["child_benefit_claimant"]} for row in rows}


Connect = Callable[..., ProviderApi]


@pytest.fixture
def connect(api: Api) -> Iterator[Connect]:
    """Start an HMRC API and point the dataset at it; put the SQL store back afterwards."""
    with api.exchange.engine.connect() as conn:
        original = conn.execute(select(t.datasets.c.connector)
                                .where(t.datasets.c.id == HMRC)).scalar_one()
    started: list[ProviderApi] = []

    def start(server_tls: ssl.SSLContext | None = None, **config: Any) -> ProviderApi:
        provider = ProviderApi(hmrc_records(original),
                               **config.pop("provider", {})).start(server_tls)
        started.append(provider)
        set_connector(api, {"kind": "http", "url": provider.base_url + "/people/{id}",
                            "fields_param": "fields", "fields": HMRC_FIELDS, "timeout": 5,
                            **config})
        return provider

    yield start
    set_connector(api, original)
    for provider in started:
        provider.stop()


def set_connector(api: Api, config: dict[str, Any]) -> None:
    with api.exchange.engine.begin() as conn:
        conn.execute(update(t.datasets).where(t.datasets.c.id == HMRC).values(connector=config))


def ask(api: Api, label: str = DWP_OFFICER, nino: str | None = None, agreement: int = 1,
        fields: tuple[str, ...] = ("income_band",),
        purpose: str = "benefit-entitlement") -> httpx.Response:
    body = {"agreement_id": agreement,
            "subject": {"scheme": "nino", "value": nino or api.world.citizen_ids["nino"]},
            "fields": list(fields), "purpose": purpose}
    return api.client.post("/v1/queries", json=body, headers=api.auth(label))


def audit_tail(api: Api, after: int) -> list[Any]:
    with api.exchange.engine.connect() as conn:
        return conn.execute(select(t.audit_log).where(t.audit_log.c.seq > after)
                            .order_by(t.audit_log.c.seq)).fetchall()


def last_seq(api: Api) -> int:
    with api.exchange.engine.connect() as conn:
        return conn.execute(select(t.audit_log.c.seq).order_by(t.audit_log.c.seq.desc())
                            .limit(1)).scalar_one()


def assert_refused_and_audited(api: Api, response: httpx.Response, status: int,
                               code: str, before: int) -> None:
    """Refused with `code`, audited as such, and nothing released."""
    assert_problem(response, status, code)
    entries = audit_tail(api, before)
    assert [(e.action, e.outcome, e.reason) for e in entries] == [
        ("query.decision", "deny", code)]


def breaker_state(api: Api, provider: ProviderApi) -> float:
    text = api.client.get("/metrics", headers=api.auth("manager")).text
    host = provider.base_url.split("//")[1]
    line = next(line for line in text.splitlines()
                if line.startswith(f'onceonly_provider_breaker_state{{host="{host}"}}'))
    return float(line.split()[-1])


def test_only_the_fields_a_permitted_request_needs_are_asked_for(api: Api,
                                                                connect: Connect) -> None:
    provider = connect()
    answer = ask(api)
    assert answer.status_code == 200, answer.text
    nino = api.world.citizen_ids["nino"]
    income = provider.records[nino]["income"]["annual"]
    assert set(answer.json()["data"]) == {"income_band"}
    # The provider's own log: one GET for this person, asking for its `income` part only.
    assert [(s.method, s.path, s.query) for s in provider.seen] == [
        ("GET", f"/people/{nino}", {"fields": ["income"]})]
    assert isinstance(income, int)


def test_a_person_the_provider_does_not_know_is_record_unknown(api: Api,
                                                              connect: Connect) -> None:
    provider = connect()
    nino = api.world.citizen_ids["nino"]
    del provider.records[nino]
    before = last_seq(api)
    assert_refused_and_audited(api, ask(api), 404, "record_unknown", before)


@pytest.mark.parametrize("change", ["wrong type", "missing"])
def test_a_wrong_or_missing_value_releases_nothing(api: Api, connect: Connect,
                                                   change: str) -> None:
    provider = connect()
    record = provider.records[api.world.citizen_ids["nino"]]
    if change == "wrong type":
        record["income"]["annual"] = "about forty thousand"
    else:
        del record["income"]["annual"]
    before = last_seq(api)
    response = ask(api)
    assert_refused_and_audited(api, response, 502, "provider_response_invalid", before)
    assert "annual_income" in response.json()["detail"]
    # The refusal is the breaker's business no more than a 404: the host answered.
    assert breaker_state(api, provider) == 0


def test_a_slow_provider_times_out_without_slowing_other_providers(api: Api,
                                                                   connect: Connect) -> None:
    gate = threading.Event()  # HMRC's API holds each request until the test lets it go
    provider = connect(timeout=3, provider={"gate": gate})
    slow: dict[str, Any] = {}
    before = last_seq(api)

    def slow_query() -> None:
        with httpx.Client(base_url=api.base_url, timeout=30) as client:
            slow["response"] = client.post("/v1/queries", headers=api.auth(DWP_OFFICER), json={
                "agreement_id": 1, "purpose": "benefit-entitlement", "fields": ["income_band"],
                "subject": {"scheme": "nino", "value": api.world.citizen_ids["nino"]}})
            slow["at"] = time.monotonic()

    waiting = threading.Thread(target=slow_query)
    waiting.start()
    try:
        deadline = time.monotonic() + 20
        while not provider.seen and time.monotonic() < deadline:
            time.sleep(0.01)
        assert provider.seen, "the exchange never called HMRC's API"
        # HMRC is holding the exchange's request: another provider's query is answered.
        other = ask(api, COUNCIL_OFFICER, agreement=2, fields=("receives_universal_credit",),
                    purpose="council-tax-reduction")
        answered_other = time.monotonic()
        assert other.status_code in {200, 404}, other.text
        waiting.join(30)
    finally:
        gate.set()
        waiting.join(30)
    assert answered_other < slow["at"]
    response = slow["response"]
    assert_problem(response, 504, "provider_timeout")
    assert int(response.headers["Retry-After"]) >= 1
    denials = [e for e in audit_tail(api, before) if e.outcome == "deny"]
    assert [(e.reason, e.agreement_id) for e in denials] == [("provider_timeout", 1)]


def test_a_failing_provider_opens_its_breaker_which_closes_once_it_is_back(
        api: Api, connect: Connect) -> None:
    provider = connect(breaker={"threshold": 2, "pause": 4}, retries=0,
                       provider={"status": 500})
    manager, _csrf = console_of(api, "manager")  # signed in first: the pause is short
    before = last_seq(api)
    for _ in range(2):
        assert_problem(ask(api), 502, "provider_unavailable")
    assert len(provider.seen) == 2
    assert breaker_state(api, provider) == 2  # open
    # Open: refused at once, the provider not called, told when to try again.
    refused = ask(api)
    assert_problem(refused, 502, "provider_unavailable")
    assert 1 <= int(refused.headers["Retry-After"]) <= 5
    assert len(provider.seen) == 2
    reasons = [e.reason for e in audit_tail(api, before)]
    assert reasons == ["provider_unavailable"] * 3
    assert manager_sees(manager, provider) == "Open (not calling)"  # until a probe goes
    # Back: after the pause one probe goes through and closes the breaker.
    provider.status = None
    time.sleep(4.1)
    assert ask(api).status_code == 200
    assert len(provider.seen) == 3
    assert breaker_state(api, provider) == 0
    with closing(manager):
        assert manager_sees(manager, provider) == "Closed (calling)"


def manager_sees(manager: httpx.Client, provider: ProviderApi) -> str:
    """The state of the provider host's breaker on the manager's page, in its words."""
    page = manager.get("/manager")
    assert page.status_code == 200, page.text
    table = page.text.split('id="provider-breakers"', 1)[1].split("</table>", 1)[0]
    host = provider.base_url.split("//")[1]
    row = table.split(f"<td>{host}</td>", 1)[1].split("</tr>", 1)[0]
    return row.split("<td>", 2)[1].split("</td>", 1)[0]


def test_a_read_is_retried_on_a_connection_error_and_never_on_an_answer(
        api: Api, connect: Connect) -> None:
    provider = connect(retries=1, provider={"drop": 1})
    assert ask(api).status_code == 200  # hung up on, asked again, answered
    assert len(provider.seen) == 2
    provider.drop = 10  # hung up on every time: the one retry spent, then refused
    before, asked = last_seq(api), len(provider.seen)
    assert_refused_and_audited(api, ask(api), 502, "provider_unavailable", before)
    # Each of the exchange's two tries is one request, or two where aiohttp itself asks
    # again on a fresh connection after a pooled keep-alive one was hung up on.
    assert 2 <= len(provider.seen) - asked <= 4
    provider.drop, provider.status = 0, 503  # an answer, even a failing one, is not retried
    before, asked = last_seq(api), len(provider.seen)
    assert_refused_and_audited(api, ask(api), 502, "provider_unavailable", before)
    assert len(provider.seen) - asked == 1


def test_a_provider_that_is_down_is_unavailable(api: Api, connect: Connect) -> None:
    provider = connect(retries=1)
    provider.stop()  # nothing listens on its port any more
    before = last_seq(api)
    response = ask(api)
    assert_refused_and_audited(api, response, 502, "provider_unavailable", before)
    assert "could not be reached" in response.json()["detail"]
    assert response.headers["Retry-After"]


# --- authentication -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def provider_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The provider's CA with its server certificate and the exchange's client certificate;
    and a client certificate from another CA, which the provider does not trust."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    where = tmp_path_factory.mktemp("provider-pki")
    for ca_name, issued in (("provider CA", ("server", "client")), ("stranger CA", ("other",))):
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _issue(ca_name, ca_key, ca_name, ca_key, ca=True)
        _write(where / f"{ca_name.split()[0]}-ca.pem", ca)
        for name in issued:
            usage = (ExtendedKeyUsageOID.SERVER_AUTH if name == "server"
                     else ExtendedKeyUsageOID.CLIENT_AUTH)
            key = ec.generate_private_key(ec.SECP256R1())
            _write(where / f"{name}.pem", _issue(f"onceonly exchange {name}", key, ca_name,
                                                 ca_key, usage=usage), key)
    return where


def provider_tls(pki: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.pem", pki / "server.key")
    context.load_verify_locations(pki / "provider-ca.pem")
    context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS
    return context


def test_mutual_tls_with_the_exchanges_certificate(api: Api, connect: Connect,
                                                   provider_pki: Path) -> None:
    provider = connect(provider_tls(provider_pki), tls={
        "ca_file": str(provider_pki / "provider-ca.pem"),
        "cert_file": str(provider_pki / "client.pem"),
        "key_file": str(provider_pki / "client.key")})
    assert ask(api).status_code == 200
    assert [s.client_cn for s in provider.seen] == ["onceonly exchange client"]


def test_mutual_tls_with_a_wrong_client_certificate_is_refused_by_the_provider(
        api: Api, connect: Connect, provider_pki: Path) -> None:
    provider = connect(provider_tls(provider_pki), retries=0, tls={
        "ca_file": str(provider_pki / "provider-ca.pem"),
        "cert_file": str(provider_pki / "other.pem"),
        "key_file": str(provider_pki / "other.key")})
    before = last_seq(api)
    assert_refused_and_audited(api, ask(api), 502, "provider_unavailable", before)
    assert provider.seen == []  # the handshake failed: no request reached the provider


def test_a_signed_request_is_verified_by_the_provider_against_the_jwks(
        api: Api, connect: Connect) -> None:
    jwks = api.client.get("/.well-known/jwks.json").json()
    operator = api.exchange.key_store.jwks(operator_org())
    provider = connect(auth={"kind": "signature"}, provider={"jwks": lambda: operator})
    assert ask(api).status_code == 200
    assert [s.signature_verified for s in provider.seen] == [True]
    assert {k["kid"] for k in operator["keys"]} <= {k["kid"] for k in jwks["keys"]}
    # A provider that trusts other keys (HMRC's own) refuses: the exchange says unavailable.
    hmrc_only = api.exchange.key_store.jwks("GOV/HMRC")
    refusing = connect(auth={"kind": "signature"}, provider={"jwks": lambda: hmrc_only})
    assert_problem(ask(api), 502, "provider_unavailable")
    assert [s.signature_verified for s in refusing.seen] == [False]


def test_a_bearer_secret_is_read_from_the_environment_and_never_stored(
        api: Api, connect: Connect, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HMRC_API_TOKEN", "s3cret-from-env")
    provider = connect(auth={"kind": "bearer", "env": "HMRC_API_TOKEN"},
                       provider={"bearer": "s3cret-from-env"})
    assert ask(api).status_code == 200
    assert [s.authorization for s in provider.seen] == ["Bearer s3cret-from-env"]
    with api.exchange.engine.connect() as conn:
        stored = conn.execute(select(t.datasets.c.connector)
                              .where(t.datasets.c.id == HMRC)).scalar_one()
    assert "s3cret" not in json.dumps(stored)
    secret_file = tmp_path / "hmrc-token"
    secret_file.write_text("s3cret-from-file\n")
    from_file = connect(auth={"kind": "bearer", "file": str(secret_file)},
                        provider={"bearer": "s3cret-from-file"})
    assert ask(api).status_code == 200
    assert [s.authorization for s in from_file.seen] == ["Bearer s3cret-from-file"]


# --- corrections ----------------------------------------------------------------------------


def test_a_correction_reaches_the_provider_as_a_signed_patch(api: Api, connect: Connect) -> None:
    operator = api.exchange.key_store.jwks(operator_org())
    provider = connect(auth={"kind": "signature"}, corrections="patch",
                       provider={"jwks": lambda: operator})
    nino = api.world.citizen_ids["nino"]
    citizen = replace(api.principal("citizen"), person_key=api.world.citizen_ids["person_key"])
    raised = api.exchange.accuracy.raise_challenge(citizen, HMRC, "address", "I moved",
                                                   "1 New Street, Northtown")
    done = api.exchange.accuracy.correct(api.principal("guardian:GOV/HMRC"), raised.id,
                                         "1 New Street, Northtown", "checked the deeds")
    assert done.challenge.status.value == "corrected"
    assert provider.records[nino]["address"] == "1 New Street, Northtown"
    patches = [s for s in provider.seen if s.method == "PATCH"]
    assert [(s.path, s.signature_verified) for s in patches] == [(f"/people/{nino}", True)]
    # A field inside an object is patched there, the object's other members left alone.
    tax_code = provider.records[nino]["income"]["taxCode"]
    old = provider.records[nino]["income"]["annual"]
    raised = api.exchange.accuracy.raise_challenge(citizen, HMRC, "annual_income",
                                                   "I earn less", str(old + 1))
    api.exchange.accuracy.correct(api.principal("guardian:GOV/HMRC"), raised.id, old + 1,
                                  "checked the payslips")
    assert provider.records[nino]["income"] == {"annual": old + 1, "taxCode": tax_code}


def test_a_correction_hung_up_on_is_not_sent_again(api: Api, connect: Connect) -> None:
    """Only reads are asked again on a connection error: a PATCH the provider may have
    applied is refused, not repeated."""
    provider = connect(corrections="patch", retries=1)
    nino = api.world.citizen_ids["nino"]
    was = provider.records[nino]["address"]
    citizen = replace(api.principal("citizen"), person_key=api.world.citizen_ids["person_key"])
    raised = api.exchange.accuracy.raise_challenge(citizen, HMRC, "address", "I moved",
                                                   "2 Hung Up Lane")
    provider.drop, provider.drop_only = 1, "PATCH"  # the read before it answered
    with pytest.raises(DomainError) as refused:
        api.exchange.accuracy.correct(api.principal("guardian:GOV/HMRC"), raised.id,
                                      "2 Hung Up Lane", "checked the deeds")
    assert refused.value.code == "provider_unavailable"
    assert [s.method for s in provider.seen].count("PATCH") == 1
    assert provider.records[nino]["address"] == was


def test_a_provider_failing_under_another_use_case_is_refused_and_audited(
        api: Api, connect: Connect) -> None:
    """Any use case that reads through the connector refuses as the query does: a citizen's
    challenge while HMRC's API is down."""
    provider = connect(retries=0)
    provider.stop()
    citizen = replace(api.principal("citizen"), person_key=api.world.citizen_ids["person_key"])
    before = last_seq(api)
    with pytest.raises(DomainError) as refused:
        api.exchange.accuracy.raise_challenge(citizen, HMRC, "address", "I moved", "3 Road")
    assert refused.value.code == "provider_unavailable"
    assert [(e.action, e.outcome, e.reason) for e in audit_tail(api, before)] == [
        ("challenge.raise", "deny", "provider_unavailable")]


# --- publication: the connector tried, and checked against the provider's document ----------

HMRC_OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0", "info": {"title": "HMRC people", "version": "1"},
    "paths": {"/people/{nino}": {"get": {
        "parameters": [{"name": "nino", "in": "path", "required": True,
                        "schema": {"type": "string"}},
                       {"name": "fields", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"content": {"application/json": {"schema": {
            "type": "object", "properties": {
                "id": {"type": "string"},
                "name": {"type": "object", "properties": {"full": {"type": "string"}}},
                "address": {"type": "string"},
                "income": {"type": "object", "properties": {
                    "annual": {"type": "integer"}, "taxCode": {"type": "string"}}},
                "childBenefit": {"type": "boolean"}}}}}},
            "404": {"description": "no such person"}}}}},
}
HMRC_TYPES = {name: spec["type"] for name, spec in HMRC_FIELDS.items()}


def test_the_connector_is_checked_against_the_document_the_provider_serves(
        api: Api, connect: Connect) -> None:
    provider = connect(provider={"openapi": HMRC_OPENAPI})
    document = httpx.get(f"{provider.base_url}/openapi.json").json()
    with api.exchange.engine.connect() as conn:
        config = conn.execute(select(t.datasets.c.connector)
                              .where(t.datasets.c.id == HMRC)).scalar_one()
    api.exchange.connectors.check_contract(config, document, HMRC_TYPES)
    # The provider documents its income as a string: the publication would be refused.
    document["paths"]["/people/{nino}"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]["properties"]["income"]["properties"]["annual"] = {
        "type": "string"}
    with pytest.raises(DomainError) as refused:
        api.exchange.connectors.check_contract(config, document, HMRC_TYPES)
    assert refused.value.code == "connector_contract_mismatch"
    assert refused.value.detail.startswith("annual_income: ")


def test_the_connector_is_tried_once_at_publication(api: Api, connect: Connect) -> None:
    provider = connect(retries=0)
    with api.exchange.engine.connect() as conn:
        config = conn.execute(select(t.datasets.c.connector)
                              .where(t.datasets.c.id == HMRC)).scalar_one()
    store = api.exchange.connectors.for_dataset(HMRC, config)
    store.check(list(HMRC_FIELDS))  # the API answers (a 404 for the probe is an answer)
    assert [s.path for s in provider.seen] == ["/people/onceonly-probe"]
    with pytest.raises(ConnectorUnusable, match="tax_band"):
        store.check(["annual_income", "tax_band"])
    provider.stop()
    with pytest.raises(ConnectorUnusable, match="did not answer"):
        store.check(["annual_income"])


def test_a_missing_bearer_secret_is_refused_without_opening_the_breaker(
        api: Api, connect: Connect, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HMRC_API_TOKEN", raising=False)
    provider = connect(auth={"kind": "bearer", "env": "HMRC_API_TOKEN"}, retries=0,
                       breaker={"threshold": 1, "pause": 60})
    for _ in range(2):
        response = ask(api)
        assert_problem(response, 502, "provider_unavailable")
        assert "HMRC_API_TOKEN" in response.json()["detail"]
    assert provider.seen == []
    assert breaker_state(api, provider) == 0  # the exchange's own configuration, not HMRC
    connect(auth={"kind": "bearer", "file": "/nonexistent/hmrc-token"}, retries=0)
    assert "cannot be read" in ask(api).json()["detail"]
