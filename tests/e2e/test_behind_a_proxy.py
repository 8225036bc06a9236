"""Behind a proxy, and probed by one: the client's address (for throttling and the logs)
and scheme come from X-Forwarded-For and X-Forwarded-Proto only through a trusted proxy;
HSTS is sent over TLS or proxied TLS only; readiness (database, schema, signer, keys) is
apart from liveness. In process on SQLite and PostgreSQL, and through `onceonly serve`."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from onceonly.adapters.db.migrate import downgrade, upgrade
from onceonly.adapters.kms_file import create_key_file
from onceonly.bootstrap import bootstrap
from onceonly.demo.seed import build_world
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running
from tests.e2e.conftest import Api
from tests.support.logs import captured_logs
from tests.support.problems import assert_problem
from tests.support.servers import start_server, stop, wait_healthy

CLIENT = "203.0.113.9"
FORWARDED = {"X-Forwarded-For": f"{CLIENT}, 10.0.0.2", "X-Forwarded-Proto": "https"}
HSTS = "max-age=31536000; includeSubDomains"


def client_logged(base: str, headers: dict[str, str]) -> tuple[httpx.Response, str]:
    with captured_logs() as lines:
        answer = httpx.get(f"{base}/v1/catalogue", headers=headers, timeout=30)
    [line] = [line for line in lines if line["event"] == "request"]
    return answer, line["client"]


@pytest.mark.parametrize(("trusted", "client", "hsts"), [
    (["127.0.0.1"], "10.0.0.2", True),  # the last hop the proxy saw: it added it
    (["127.0.0.0/8", "10.0.0.0/8"], CLIENT, True),  # both proxies trusted: the first
    ([], "127.0.0.1", False),  # none trusted: the peer, whatever the headers say
    (["10.9.9.9"], "127.0.0.1", False),
])
def test_forwarded_headers_count_only_through_trusted_proxies(api: Api, trusted: list[str],
                                                              client: str, hsts: bool) -> None:
    with running(create_app(api.exchange, integrate_every=0, trusted_proxies=trusted)) as base:
        forwarded, seen = client_logged(base, FORWARDED)
        plain, seen_plain = client_logged(base, {})
    assert forwarded.status_code == plain.status_code == 200
    assert seen == client
    assert forwarded.headers.get("strict-transport-security") == (HSTS if hsts else None)
    assert seen_plain == "127.0.0.1"
    assert "strict-transport-security" not in plain.headers  # plain http: never


def test_liveness_asks_nothing_and_readiness_everything(api: Api) -> None:
    assert api.client.get("/livez").json() == {"status": "alive"}
    assert api.client.get("/readyz").json() == {"status": "ok"}
    assert api.client.get("/healthz").json() == {"status": "ok"}


def test_a_database_behind_this_codes_schema_is_not_ready_but_alive(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'exchange.sqlite'}"
    exchange = bootstrap(url)
    try:
        upgrade(exchange.engine)
        build_world(exchange, url, people=20)
        downgrade(exchange.engine, "0012")
        with running(create_app(exchange, integrate_every=0)) as base:
            behind = httpx.get(f"{base}/readyz", timeout=30)
            alive = httpx.get(f"{base}/livez", timeout=30)
            upgrade(exchange.engine)
            ready = httpx.get(f"{base}/readyz", timeout=30)
            with exchange.engine.begin() as conn:  # a newer release's expand migration
                conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0999'")
            ahead = httpx.get(f"{base}/readyz", timeout=30)
            with exchange.engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM alembic_version")
            unset = httpx.get(f"{base}/readyz", timeout=30)
    finally:
        exchange.close()
    body = assert_problem(behind, 503, "database_not_migrated")
    assert "onceonly db upgrade" in body["detail"] and behind.headers["retry-after"] == "60"
    assert alive.status_code == 200 and ready.status_code == 200
    # A server already running stays ready while a newer release rolls out (expand only).
    assert ahead.status_code == 200, ahead.text
    assert_problem(unset, 503, "database_not_migrated")


def test_keys_that_do_not_decrypt_are_not_ready(api: Api, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "another-master-key.json"
    create_key_file(other)  # none of the master keys the data keys are wrapped by
    monkeypatch.setenv("ONCEONLY_MASTER_KEY_FILE", str(other))
    afresh = bootstrap(engine=api.exchange.engine, clock=api.exchange.clock)
    with running(create_app(afresh, integrate_every=0)) as base:
        ready = httpx.get(f"{base}/readyz", timeout=30)
        alive = httpx.get(f"{base}/livez", timeout=30)
    assert_problem(ready, 503, "master_key_unavailable")
    assert alive.json() == {"status": "alive"}


def access_lines(log: Path) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in log.read_text().splitlines()
             if line.startswith("{")]
    return [line for line in lines if line.get("event") == "request"]


def test_serve_forwarded_allow_ips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'exchange.sqlite'}"
    exchange = bootstrap(url)
    try:
        build_world(exchange, url, people=20)
    finally:
        exchange.close()
    monkeypatch.setenv("ONCEONLY_TRUSTED_PROXIES", "")  # overridden by the option
    seen = {}
    for allowed in ("127.0.0.1", ""):
        server = start_server(url, tmp_path / f"serve-{allowed or 'none'}.log",
                              "--forwarded-allow-ips", allowed)
        try:
            wait_healthy(server)
            answer = httpx.get(f"{server.base_url}/v1/catalogue", timeout=30,
                               headers={**FORWARDED, "X-Request-ID": "probe"})
        finally:
            stop(server)
        [line] = [line for line in access_lines(server.log) if line["request_id"] == "probe"]
        seen[allowed] = (line["client"], answer.headers.get("strict-transport-security"))
        assert (line["route"], line["status"]) == ("/v1/catalogue", 200)
    assert seen == {"127.0.0.1": ("10.0.0.2", HSTS), "": ("127.0.0.1", None)}
