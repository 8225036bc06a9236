"""What the exchange depends on, failing while it runs, answers 503 with a code and a
Retry-After, never a bare 500, through a real server: a key that stops decrypting (the
master key file replaced, or a stored key altered), on SQLite and PostgreSQL; a database
that does not answer, was never migrated, or whose connections are all in use."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.kms_file import create_key_file
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.demo.seed import World
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running
from tests.support.postgres import fresh_schema
from tests.support.problems import assert_problem


def income_query(exchange: Exchange, world: World, base: str) -> httpx.Response:
    """DWP asks HMRC for a person's income band (agreement 1): HMRC's key signs the answer."""
    with exchange.engine.connect() as conn:
        nino = conn.execute(select(t.person_links.c.value)
                            .where(t.person_links.c.scheme == "nino").limit(1)).scalar_one()
    return httpx.post(f"{base}/v1/queries", timeout=30, headers={
        "Authorization": f"Bearer {world.token('officer:GOV/DWP')}"}, json={
        "agreement_id": 1, "subject": {"scheme": "nino", "value": nino},
        "fields": ["income_band"], "purpose": "benefit-entitlement"})


def serving_afresh(exchange: Exchange):
    """A new server process over the same database: no key loaded or unwrapped yet."""
    return running(create_app(bootstrap(engine=exchange.engine, clock=exchange.clock),
                              integrate_every=0))


def test_an_altered_private_key_answers_503_not_500(world: World, exchange: Exchange):
    with exchange.engine.begin() as conn:
        kid, envelope = conn.execute(select(t.signing_keys.c.kid, t.signing_keys.c.private_jwk)
                                     .where(t.signing_keys.c.org_id == "GOV/HMRC")).one()
        altered = dict(envelope, data_key=envelope["data_key"][:-4] + "AAAA")
        conn.execute(update(t.signing_keys).where(t.signing_keys.c.kid == kid)
                     .values(private_jwk=altered))

    with serving_afresh(exchange) as base:
        response = income_query(exchange, world, base)
        health = httpx.get(f"{base}/healthz", timeout=30)

    assert_problem(response, 503, "key_undecryptable")
    assert response.headers["retry-after"] == "60"
    assert "AAAA" not in response.text and kid not in response.text  # nothing of the key
    assert health.status_code == 200  # the rest of the server still answers


def test_a_replaced_master_key_file_answers_503_not_500(world: World, exchange: Exchange,
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch):
    other = tmp_path / "another-master-key.json"
    create_key_file(other)  # holds none of the master keys the data keys are wrapped by
    monkeypatch.setenv("ONCEONLY_MASTER_KEY_FILE", str(other))

    with serving_afresh(exchange) as base:
        response = income_query(exchange, world, base)
        jwks = httpx.get(f"{base}/.well-known/jwks.json", timeout=30)

    assert_problem(response, 503, "master_key_unavailable")
    assert response.headers["retry-after"] == "60"
    assert jwks.status_code == 200  # public keys need no master key


def a_port_nobody_listens_on() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_database_that_does_not_answer_gives_503_not_500():
    port = a_port_nobody_listens_on()
    exchange = bootstrap(f"postgresql+psycopg://postgres:secret@127.0.0.1:{port}/test")
    try:
        with running(create_app(exchange, integrate_every=0)) as base:
            answers = [httpx.get(f"{base}/healthz", timeout=30),
                       httpx.get(f"{base}/v1/catalogue", timeout=30),
                       httpx.post(f"{base}/v1/queries", timeout=30,
                                  headers={"Authorization": "Bearer oo_anything"},
                                  json={"agreement_id": 1,
                                        "subject": {"scheme": "nino", "value": "AA000012A"},
                                        "fields": ["income_band"], "purpose": "any"})]
    finally:
        exchange.close()
    for response in answers:
        assert_problem(response, 503, "database_unavailable")
        assert response.headers["retry-after"] == "60"
        assert "secret" not in response.text and str(port) not in response.text


def test_a_database_never_migrated_gives_503_until_it_is(tmp_path: Path):
    exchange = bootstrap(f"sqlite:///{tmp_path / 'exchange.sqlite'}")
    try:
        with running(create_app(exchange, integrate_every=0)) as base:
            before = httpx.get(f"{base}/v1/catalogue", timeout=30)
            upgrade(exchange.engine)
            after = httpx.get(f"{base}/v1/catalogue", timeout=30)
    finally:
        exchange.close()
    assert_problem(before, 503, "database_unavailable")
    assert "onceonly db upgrade" in before.json()["detail"]
    assert after.status_code == 200  # the same server, once an operator has migrated


def test_a_database_whose_connections_are_all_in_use_gives_503_busy(postgres_server: str):
    """A server allowed one connection (ONCEONLY_DATABASE_CONNECTIONS=1), held elsewhere:
    the request waits for it as long as the pool allows, then is told to come back."""
    with fresh_schema(postgres_server) as url:
        engine = make_engine(url, connections=1, pool_timeout=0.5)
        upgrade(engine)
        exchange = bootstrap(engine=engine)
        try:
            with running(create_app(exchange, integrate_every=0)) as base:
                with engine.connect():  # the only connection this server may open
                    busy = httpx.get(f"{base}/v1/catalogue", timeout=30)
                after = httpx.get(f"{base}/v1/catalogue", timeout=30)
        finally:
            exchange.close()
    assert_problem(busy, 503, "database_busy")
    assert busy.headers["retry-after"] == "60"
    assert "ONCEONLY_DATABASE_CONNECTIONS" in busy.json()["detail"]
    assert after.status_code == 200  # returned, the connection serves the next request
