"""A new exchange from an empty database, through the command line and the API, on SQLite
and PostgreSQL: `onceonly init` (once), then two real `onceonly serve` processes sharing the
database. The exchange's administrator registers members over HTTP (each bad input a
problem with its code); an organisation's own administrator makes its officers and never
another organisation's; disabling a person or suspending a member through one process
refuses the very next request through the other."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.postgres import fresh_schema
from tests.support.servers import Server, start_server, stop, wait_healthy


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "onceonly.entrypoints.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def flat(text: str) -> str:
    return " ".join(text.split())


@dataclass
class NewExchange:
    url: str
    admin_token: str
    init_output: str
    again: subprocess.CompletedProcess[str]
    a: httpx.Client
    b: httpx.Client


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def new_exchange(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[NewExchange]:
    folder = tmp_path_factory.mktemp("new-exchange")
    if request.param == "sqlite":
        yield from _built(f"sqlite:///{folder / 'exchange.sqlite'}", folder)
        return
    with fresh_schema(request.getfixturevalue("postgres_server")) as url:
        yield from _built(url, folder)


def _built(url: str, folder: Path) -> Iterator[NewExchange]:
    upgraded = cli("db", "upgrade", "--db", url, cwd=folder)
    assert upgraded.returncode == 0, upgraded.stderr
    init = cli("init", "--db", url, "--operator", "GOV/EXCHANGE", "--name", "Test operator",
               cwd=folder)
    assert init.returncode == 0, init.stderr
    again = cli("init", "--db", url, "--operator", "GOV/EXCHANGE", "--name", "Again",
                cwd=folder)
    servers: list[Server] = []
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ONCEONLY_AUDIT_INTERVAL", "0")  # the tree head stays the empty tree's
        try:
            servers = [start_server(url, folder / f"server-{i}.log") for i in range(2)]
            for server in servers:
                wait_healthy(server)
            with httpx.Client(base_url=servers[0].base_url, timeout=30) as a, \
                    httpx.Client(base_url=servers[1].base_url, timeout=30) as b:
                yield NewExchange(url, init.stdout.split()[-1], init.stdout, again, a, b)
        finally:
            for server in servers:
                stop(server)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_init_prints_a_first_admin_token_once_and_refuses_a_second_run(new_exchange):
    assert "token shown once" in flat(new_exchange.init_output)
    assert new_exchange.admin_token.startswith("oo_")
    assert new_exchange.again.returncode == 2
    assert "already initialised" in flat(new_exchange.again.stderr)
    assert "Traceback" not in new_exchange.again.stderr


def test_a_new_exchange_answers_every_public_endpoint(new_exchange):
    catalogue = new_exchange.b.get("/v1/catalogue")
    jwks = new_exchange.b.get("/.well-known/jwks.json")
    head = new_exchange.b.get("/v1/audit/tree-head")

    assert catalogue.status_code == 200 and catalogue.json()["datasets"] == []
    assert jwks.status_code == 200 and len(jwks.json()["keys"]) == 1
    assert head.status_code == 200 and head.json()["tree_size"] == 0


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"id": "XX/FOO", "name": "Unknown class"}, 422, "unknown_member_class"),
    ({"id": "la/lower", "name": "Malformed"}, 422, "invalid_org_id"),
    ({"id": "GOV/EXCHANGE", "name": "Twice"}, 409, "already_exists"),
])
def test_bad_members_are_problems_with_codes(new_exchange, body, status, code):
    before = new_exchange.a.get("/v1/members", headers=bearer(new_exchange.admin_token)).json()

    answer = new_exchange.a.post("/v1/members", json=body,
                                 headers=bearer(new_exchange.admin_token))

    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert answer.json()["detail"]
    after = new_exchange.b.get("/v1/members", headers=bearer(new_exchange.admin_token)).json()
    assert after == before


# long: one story across two processes, each step depending on the one before
def test_members_and_their_people_from_registration_to_suspension(new_exchange):
    a, b, admin = new_exchange.a, new_exchange.b, bearer(new_exchange.admin_token)
    for org in ("LA/EASTSHIRE", "LA/WESTSHIRE"):
        made = a.post("/v1/members", json={"id": org, "name": f"{org} council"}, headers=admin)
        assert made.status_code == 201, made.text
        assert made.json()["status"] == "active"
    assert a.post("/v1/systems", json={"id": "LA/EASTSHIRE/housing", "title": "Housing"},
                  headers=admin).status_code == 201
    bad = a.post("/v1/schemes", json={"code": "uprn", "name": "UPRN", "pattern": "([",
                                      "issuer": "LA/EASTSHIRE"}, headers=admin)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_pattern")
    good = a.post("/v1/schemes", json={"code": "uprn", "name": "UPRN", "pattern": "^[0-9]+$",
                                       "issuer": "LA/EASTSHIRE"}, headers=admin)
    assert good.status_code == 201, good.text
    assert "uprn" in {s["code"] for s in b.get("/v1/schemes", headers=admin).json()}

    east_admin = a.post("/v1/people", json={"org": "LA/EASTSHIRE", "name": "East admin",
                                            "role": "org_admin"}, headers=admin)
    assert east_admin.status_code == 201, east_admin.text
    keeper = bearer(east_admin.json()["token"])
    theirs = a.post("/v1/people", json={"org": "LA/WESTSHIRE", "name": "Not mine",
                                        "role": "officer"}, headers=keeper)
    assert (theirs.status_code, theirs.json()["code"]) == (403, "not_your_organisation")
    officer = a.post("/v1/people", json={"org": "LA/EASTSHIRE", "name": "Olive",
                                         "role": "officer"}, headers=keeper).json()
    service = a.post("/v1/people", json={"org": "LA/EASTSHIRE", "name": "Housing batch",
                                         "role": "officer", "system": "LA/EASTSHIRE/housing"},
                     headers=keeper)
    assert (service.status_code, service.json()["system"]) == (201, "LA/EASTSHIRE/housing")
    as_officer = bearer(officer["token"])
    assert b.get("/v1/agreements", headers=as_officer).status_code == 200

    # Disabled through A: refused on B at the very next request.
    assert a.post(f"/v1/people/{officer['id']}/disable", headers=keeper).status_code == 200
    refused = b.get("/v1/agreements", headers=as_officer)
    assert (refused.status_code, refused.json()["code"]) == (401, "principal_disabled")

    # The member suspended through A: its people refused on B, then resumed.
    as_service = bearer(service.json()["token"])
    suspended = a.post("/v1/members/LA/EASTSHIRE/suspend", json={"reason": "inquiry"},
                       headers=admin)
    assert suspended.status_code == 200, suspended.text
    for token in (keeper, as_service):
        refused = b.get("/v1/agreements", headers=token)
        assert (refused.status_code, refused.json()["code"]) == (403, "member_suspended")
    assert a.post("/v1/members/LA/EASTSHIRE/resume", json={"reason": "closed"},
                  headers=admin).status_code == 200
    assert b.get("/v1/agreements", headers=as_service).status_code == 200
    listed = b.get("/v1/people", headers=keeper).json()
    assert {p["id"]: p["disabled_at"] is not None for p in listed}[officer["id"]] is True
    history = b.get("/v1/members/LA/EASTSHIRE/history", headers=admin).json()
    assert [e["action"] for e in history] == ["register", "suspend", "resume"]
    members = {m["id"]: m["status"] for m in b.get("/v1/members", headers=admin).json()}
    assert members == {"GOV/EXCHANGE": "active", "LA/EASTSHIRE": "active",
                       "LA/WESTSHIRE": "active"}
    assert b.post("/v1/members", json={"id": "LA/NEW", "name": "x"},
                  headers=keeper).json()["code"] == "role_not_allowed"


def test_init_without_the_master_key_exits_2_writes_nothing_and_a_rerun_succeeds(
        tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'exchange.sqlite'}"
    key_file = tmp_path / "master-keys.json"
    monkeypatch.setenv("ONCEONLY_MASTER_KEY_FILE", str(key_file))
    assert cli("db", "upgrade", "--db", url, cwd=tmp_path).returncode == 0
    init = ("init", "--db", url, "--operator", "GOV/EXCHANGE", "--name", "Test operator")

    keyless = cli(*init, cwd=tmp_path)

    assert keyless.returncode == 2
    assert "signing key cannot be made" in flat(keyless.stderr)
    assert "Nothing was initialised" in flat(keyless.stderr)
    assert "Traceback" not in keyless.stderr
    assert cli("keys", "init", "--db", url, cwd=tmp_path).returncode == 0
    rerun = cli(*init, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert "token shown once" in flat(rerun.stdout)
