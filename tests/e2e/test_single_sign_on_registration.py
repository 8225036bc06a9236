"""Registering an organisation's identity provider, over HTTP and at the command line, on
SQLite and PostgreSQL: its own administrator or the exchange's may; anyone else, another
organisation's administrator, or a registration that breaks a rule is refused (4xx with a
code, CLI exit 2), audited, and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from onceonly.adapters.db import tables as t
from onceonly.domain.organisations import Principal, Role
from onceonly.services.people import NewPerson
from tests.e2e.test_cli import cli, flat

ADMIN = Principal("exchange.admin", "Administrator", "GOV/EXCHANGE", Role.ADMIN)
DWP = "/v1/members/GOV/DWP/identity-provider"
BODY = {"issuer": "https://login.dwp.example", "client_id": "onceonly",
        "secret": "env:DWP_OIDC_KEY", "roles": {"data-guardians": "guardian"}}


@pytest.fixture(scope="module")
def dwp_admin(api) -> dict[str, str]:
    issued = api.exchange.people.add(ADMIN, NewPerson("GOV/DWP", "DWP admin", Role.ORG_ADMIN))
    return {"Authorization": f"Bearer {issued.token}"}


def registered(api) -> list[tuple[str, str]]:
    with api.exchange.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(
            t.identity_providers.c.org_id, t.identity_providers.c.issuer))]


def audited(api, action: str, outcome: str, reason: str | None = None) -> int:
    with api.exchange.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.audit_log).where(
            t.audit_log.c.action == action, t.audit_log.c.outcome == outcome,
            *([t.audit_log.c.reason == reason] if reason else []))).scalar_one()


def test_an_organisations_administrator_registers_its_provider(api, dwp_admin):
    answer = api.client.put(DWP, json=BODY, headers=dwp_admin)
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"roles": None} == {
        "org": "GOV/DWP", "issuer": "https://login.dwp.example", "client_id": "onceonly",
        "client_auth": "private_key_jwt", "person_claim": "sub", "roles_claim": "groups",
        "roles": None, "org_claim": None}
    assert ("GOV/DWP", "https://login.dwp.example") in registered(api)
    assert audited(api, "identity_provider.set", "done") >= 1
    assert "secret" not in answer.text


@pytest.mark.parametrize(("label", "path", "body", "status", "code"), [
    ("guardian:GOV/DWP", DWP, BODY, 403, "role_not_allowed"),
    ("admin", "/v1/members/GOV/HMRC/identity-provider", BODY, 403, "not_own_organisation"),
    ("admin", DWP, BODY | {"issuer": "http://login.dwp.example"}, 422, "invalid_issuer"),
    ("admin", DWP, BODY | {"secret": "the-secret-itself"}, 422, "invalid_secret_reference"),
    ("admin", DWP, BODY | {"roles": {"x": "admin"}}, 422, "role_not_mappable"),
])
def test_refused_registrations_change_nothing(api, dwp_admin, label, path, body, status,
                                              code):
    headers = dwp_admin if label == "admin" else api.auth(label)
    before = registered(api)
    answer = api.client.put(path, json=body, headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert registered(api) == before


def test_role_refusals_are_audited(api):
    before = audited(api, "identity_provider.set", "deny", "role_not_allowed")
    api.client.put(DWP, json=BODY, headers=api.auth("guardian:GOV/DWP"))
    assert audited(api, "identity_provider.set", "deny", "role_not_allowed") == before + 1


def test_the_command_line_registers_and_lists_providers(api, module_db_url, tmp_path: Path):
    done = cli("org", "idp", "set", "GOV/DVLA", "--issuer", "https://sso.dvla.example",
               "--client-id", "exchange", "--secret", "file:/run/secrets/dvla.pem",
               "--role", "guardians=guardian", "--role", "officers=officer",
               "--db", module_db_url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "GOV/DVLA's staff sign in through https://sso.dvla.example" in flat(done.stdout)
    listed = cli("org", "idp", "list", "--db", module_db_url, cwd=tmp_path)
    assert "GOV/DVLA https://sso.dvla.example exchange private_key_jwt" in listed.stdout


@pytest.mark.parametrize(("args", "words"), [
    (["--role", "guardians"], "is not VALUE=ROLE"),
    (["--role", "g=citizen"], "maps to citizen"),
    (["--role", "g=guardian", "--issuer", "ftp://x"], "is not an issuer"),
])
def test_the_command_line_refuses_a_bad_registration_with_exit_2(api, module_db_url,
                                                                  tmp_path: Path, args, words):
    before = registered(api)
    base = {"--issuer": "https://sso.dvla.example", "--client-id": "c",
            "--secret": "env:X"}
    for name, value in zip(args[::2], args[1::2], strict=True):
        base[name] = value
    flags = [item for name, value in base.items() if name != "--role"
             for item in (name, value)] + [a for pair in zip(args[::2], args[1::2], strict=True)
                                          if pair[0] == "--role" for a in pair]
    done = cli("org", "idp", "set", "GOV/DVLA", *flags, "--db", module_db_url, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert words in flat(done.stderr)
    assert registered(api) == before


def test_confirming_a_citizen_no_one_queued_is_refused_with_exit_2(api, module_db_url,
                                                                  tmp_path: Path):
    waiting = cli("org", "idp", "waiting", "--db", module_db_url, cwd=tmp_path)
    assert (waiting.returncode, waiting.stdout) == (0, "")
    before = audited(api, "identity.confirm", "deny", "not_waiting")
    done = cli("org", "idp", "confirm", "https://oidc.account.gov.uk/", "sub-nobody",
               "--db", module_db_url, cwd=tmp_path)
    assert done.returncode == 2
    assert "no citizen of that issuer and subject waits" in flat(done.stderr)
    assert audited(api, "identity.confirm", "deny", "not_waiting") == before + 1
