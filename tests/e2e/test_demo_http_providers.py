"""The demo's HTTP providers, each its own process over its own store: HMRC's API reached
over mutual TLS and DVLA's with RFC 9421 signed requests, published through the datasets
use case with their own OpenAPI documents; governed queries and a correction go through
them. On SQLite and PostgreSQL."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.entrypoints.demo.http_providers import (
    RunningProvider,
    demo_pki,
    http_providers_running,
)
from tests.e2e.conftest import Api

HMRC, DVLA = "GOV/HMRC/income", "GOV/DVLA/licences"


@pytest.fixture(scope="module")
def providers(api: Api, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[dict[str, RunningProvider]]:
    with http_providers_running(api.exchange, tmp_path_factory.mktemp("providers")) as running:
        yield running


def connector_kind(api: Api, dataset_id: str) -> tuple[str, int]:
    with api.exchange.engine.connect() as conn:
        row = conn.execute(select(t.datasets.c.connector, t.datasets.c.version)
                           .where(t.datasets.c.id == dataset_id)).one()
    return row.connector["kind"], row.version


def test_hmrc_and_dvla_answer_from_their_own_apis(api: Api,
                                                   providers: dict[str, RunningProvider]
                                                   ) -> None:
    assert connector_kind(api, HMRC) == ("http", 2)
    assert connector_kind(api, DVLA) == ("http", 2)
    assert providers[HMRC].base_url.startswith("https://")
    nino = api.world.citizen_ids["nino"]
    band = api.client.post("/v1/queries", headers=api.auth("officer:GOV/DWP"), json={
        "agreement_id": 1, "purpose": "benefit-entitlement", "fields": ["income_band"],
        "subject": {"scheme": "nino", "value": nino}})
    assert band.status_code == 200, band.text
    assert set(band.json()["data"]) == {"income_band"}
    driver = api.world.citizen_ids["driver"]
    keeper = api.client.post("/v1/queries", headers=api.auth("officer:POL/MET"), json={
        "agreement_id": 5, "purpose": "crime-prevention", "fields": ["full_name", "address"],
        "subject": {"scheme": "driver", "value": driver}})
    assert keeper.status_code == 200, keeper.text
    assert set(keeper.json()["data"]) == {"full_name", "address"}
    with api.exchange.engine.connect() as conn:
        entries = conn.execute(select(t.audit_log.c.action, t.audit_log.c.detail)
                               .where(t.audit_log.c.action == "dataset.publish")).all()
    assert len([e for e in entries if e.detail.get("openapi")]) == 2


def test_hmrc_refuses_a_client_without_its_certificate(
        providers: dict[str, RunningProvider], tmp_path: Path) -> None:
    hmrc = providers[HMRC]
    assert hmrc.pki is not None
    stranger = demo_pki(tmp_path / "stranger", "GOV/STRANGER")  # another CA's client
    trusted = ssl.create_default_context(cafile=str(hmrc.pki.ca_file))
    stranger_client = ssl.create_default_context(cafile=str(hmrc.pki.ca_file))
    stranger_client.load_cert_chain(str(stranger.client_cert), str(stranger.client_key))
    exchange_client = ssl.create_default_context(cafile=str(hmrc.pki.ca_file))
    exchange_client.load_cert_chain(str(hmrc.pki.client_cert), str(hmrc.pki.client_key))
    for refused in (stranger_client, trusted):  # another CA's certificate, or none
        with pytest.raises(httpx.TransportError):
            httpx.get(hmrc.base_url + "/openapi.json", verify=refused, timeout=10)
    assert httpx.get(hmrc.base_url + "/openapi.json", verify=exchange_client,
                     timeout=10).status_code == 200


def test_dvla_refuses_an_unsigned_request(api: Api,
                                          providers: dict[str, RunningProvider]) -> None:
    driver = api.world.citizen_ids["driver"]
    unsigned = httpx.get(f"{providers[DVLA].base_url}/people/{driver}", timeout=10)
    assert unsigned.status_code == 401


def test_a_correction_reaches_dvla_by_a_signed_patch(api: Api,
                                                     providers: dict[str, RunningProvider]
                                                     ) -> None:
    citizen = replace(api.principal("citizen"), person_key=api.world.citizen_ids["person_key"])
    raised = api.exchange.accuracy.raise_challenge(citizen, DVLA, "address", "I moved",
                                                   "12 Provider Road, Northtown")
    done = api.exchange.accuracy.correct(api.principal("guardian:GOV/DVLA"), raised.id,
                                         "12 Provider Road, Northtown", "checked")
    assert done.challenge.status.value == "corrected"
    with api.exchange.engine.connect() as conn:
        config = conn.execute(select(t.datasets.c.connector)
                              .where(t.datasets.c.id == DVLA)).scalar_one()
    record = api.exchange.connectors.for_dataset(DVLA, config).fetch(
        api.world.citizen_ids["driver"], ["address"])
    assert record == {"address": "12 Provider Road, Northtown"}
