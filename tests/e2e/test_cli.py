"""The command line as a user runs it: real processes, real databases, real exit codes.

Fast argument-validation cases run in-process with Typer's CliRunner, on the same database
the real processes built; everything else is a subprocess.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from onceonly.adapters.clock import SystemClock
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.migrate import current_revision, head_revision, upgrade
from onceonly.adapters.kms_file import create_key_file
from onceonly.bootstrap import bootstrap
from onceonly.demo.seed import build_world
from onceonly.domain.organisations import Role
from onceonly.entrypoints.cli import app
from onceonly.entrypoints.demo.walkthrough import run_walkthrough
from onceonly.services.auth import authenticate
from onceonly.services.queries import QueryCommand

TOKEN = re.compile(r"oo_[A-Za-z0-9_-]{43}")
ONCEONLY = Path(sys.executable).with_name("onceonly")  # the installed console script


def cli(*args: str, cwd: Path, script: bool = False, key_file: bool = True
        ) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a process of its own: `python -m onceonly.entrypoints.cli`, or the
    installed `onceonly` script. `key_file=False`: without the tests' ONCEONLY_MASTER_KEY_FILE,
    as on a fresh machine, so the defaults beside the database are used."""
    command = [str(ONCEONLY)] if script else [sys.executable, "-m", "onceonly.entrypoints.cli"]
    unset = {"ONCEONLY_DATABASE_URL"} | (set() if key_file else {"ONCEONLY_MASTER_KEY_FILE"})
    env = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=env)


def flat(output: str) -> str:
    """Rich wraps long messages at the terminal width: compare with whitespace collapsed."""
    return " ".join(output.split())


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                    for table in t.metadata.sorted_tables}
    finally:
        engine.dispose()


# --- db upgrade ---------------------------------------------------------------------------

def test_db_upgrade_creates_every_table_and_is_repeatable(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh' / 'exchange.sqlite'}"

    first = cli("db", "upgrade", "--db", url, cwd=tmp_path, script=True)

    assert first.returncode == 0, first.stderr
    assert "up to date" in flat(first.stdout)
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) == set(t.metadata.tables) \
            | {"alembic_version"}
        assert current_revision(engine) == head_revision()
        again = CliRunner().invoke(app, ["db", "upgrade", "--db", url])
        assert again.exit_code == 0, again.output
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_db_upgrade_refuses_an_unsupported_database_url(tmp_path):
    result = CliRunner().invoke(app, ["db", "upgrade", "--db", "mysql://nobody@nowhere/x"])
    assert result.exit_code == 2
    assert "unsupported database" in flat(result.stderr)


# --- demo --seed-only ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> tuple[str, Path, subprocess.CompletedProcess[str]]:
    """`onceonly demo --seed-only --people 200` on a fresh SQLite file, run once per module."""
    folder = tmp_path_factory.mktemp("seeded")
    url = f"sqlite:///{folder / 'exchange.sqlite'}"
    result = cli("demo", "--seed-only", "--people", "200", "--db", url, cwd=folder)
    return url, folder, result


def test_demo_seed_only_builds_the_world_and_prints_a_token_per_role(seeded):
    url, folder, result = seeded

    assert result.returncode == 0, result.stderr
    written = dict(line.split("\t") for line in
                   (folder / "exchange.tokens.txt").read_text().splitlines())
    assert {"officer:GOV/DWP", "guardian:GOV/HMRC", "manager", "admin", "citizen"} \
        <= written.keys()
    assert set(TOKEN.findall(result.stdout)) == set(written.values())  # printed whole
    assert "The citizen account is" in flat(result.stdout)
    assert counts(url)["person_links"] >= 200
    exchange = bootstrap(url)
    try:
        for label, token in written.items():
            principal = authenticate(exchange.uows, SystemClock(), token)
            assert principal.role.value == label.split(":")[0].removesuffix("-2"), label
    finally:
        exchange.close()


def test_demo_again_on_a_world_exits_2_and_changes_nothing(seeded):
    url, folder, first = seeded
    assert first.returncode == 0, first.stderr
    before = counts(url)
    tokens_before = (folder / "exchange.tokens.txt").read_text()

    again = cli("demo", "--seed-only", "--people", "50", "--db", url, cwd=folder)

    assert again.returncode == 2
    assert "already holds a world" in flat(again.stderr)
    assert "Traceback" not in again.stderr
    assert counts(url) == before
    assert (folder / "exchange.tokens.txt").read_text() == tokens_before


# --- token issue --------------------------------------------------------------------------

def test_token_issue_prints_a_working_token_as_the_last_word(seeded):
    url, folder, first = seeded
    assert first.returncode == 0, first.stderr

    result = cli("token", "issue", "--db", url, "--org", "GOV/DWP", "--role", "officer",
                 "--name", "Test Officer", cwd=folder)

    assert result.returncode == 0, result.stderr
    token = result.stdout.split()[-1]
    assert TOKEN.fullmatch(token), result.stdout
    exchange = bootstrap(url)
    try:
        principal = authenticate(exchange.uows, SystemClock(), token)
        assert (principal.org_id, principal.role, principal.name) \
            == ("GOV/DWP", Role.OFFICER, "Test Officer")
        # The new officer can use DWP's agreement 1 straight away.
        with exchange.engine.connect() as conn:
            nino = conn.execute(select(t.person_links.c.value)
                                .where(t.person_links.c.scheme == "nino").limit(1)).scalar_one()
        release = exchange.queries.query(principal, QueryCommand(
            agreement_id=1, scheme="nino", value=nino, fields=("income_band",),
            purpose="benefit-entitlement"))
        assert set(release.data) == {"income_band"}
        # Issuing is audited, without the token itself.
        with exchange.engine.connect() as conn:
            issued = conn.execute(select(t.audit_log)
                                  .where(t.audit_log.c.action == "token.issue")
                                  .order_by(t.audit_log.c.seq.desc())).first()
        assert (issued.org_id, issued.detail["role"]) == ("GOV/DWP", "officer")
        assert token not in str(issued.detail)
    finally:
        exchange.close()


def test_citizen_token_names_its_person(seeded):
    url, folder, first = seeded
    assert first.returncode == 0, first.stderr
    engine = make_engine(url)
    with engine.connect() as conn:
        link = conn.execute(select(t.person_links).where(t.person_links.c.scheme == "nino")
                            .limit(1)).one()
    engine.dispose()

    result = CliRunner().invoke(app, ["token", "issue", "--db", url, "--org", "GOV/EXCHANGE",
                                      "--role", "citizen", "--person", f"nino:{link.value}"])

    assert result.exit_code == 0, result.output
    exchange = bootstrap(url)
    try:
        principal = authenticate(exchange.uows, SystemClock(), result.stdout.split()[-1])
        assert (principal.role, principal.person_key) == (Role.CITIZEN, link.person_key)
    finally:
        exchange.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "GOV/NOWHERE", "--role", "officer"], "no organisation GOV/NOWHERE"),
        (["--org", "gov-dwp", "--role", "officer"], "is not an organisation id"),
        (["--org", "GOV/DWP/benefits", "--role", "officer"], "is not an organisation id"),
        (["--org", "GOV/EXCHANGE", "--role", "citizen"], "a citizen token names the person"),
        (["--org", "GOV/DWP", "--role", "officer", "--person", "nino:AA000001A"],
         "and only a citizen's"),
        (["--org", "GOV/EXCHANGE", "--role", "citizen", "--person", "nino:ZZ999999Z"],
         "no person with identifier nino:ZZ999999Z"),
        (["--org", "GOV/EXCHANGE", "--role", "citizen", "--person", "garbage"],
         "no person with identifier garbage"),
        (["--org", "GOV/DWP", "--role", "emperor"], "'emperor' is not one of"),
        (["--org", "GOV/DWP", "--role", "officer", "--days", "0"], "--days"),
        (["--role", "officer"], "Missing option '--org'"),
        (["--org", "GOV/DWP", "--role", "admin"],
         "an exchange administrator acts for its operator (GOV/EXCHANGE), not GOV/DWP"),
    ],
)
def test_token_issue_bad_input_exits_2_with_a_message_and_changes_nothing(seeded, args,
                                                                          message):
    url, _, first = seeded
    assert first.returncode == 0, first.stderr
    before = counts(url)

    result = CliRunner().invoke(app, ["token", "issue", "--db", url, *args])

    assert result.exit_code == 2, result.output
    assert message in flat(result.stderr), result.stderr
    assert TOKEN.search(result.output) is None
    after = counts(url)
    audited = after.pop("audit_log") - before.pop("audit_log")  # the refusal, if it got far
    assert audited in (0, 1)
    assert {k: v for k, v in after.items() if not k.startswith("audit_")} == \
        {k: v for k, v in before.items() if not k.startswith("audit_")}


def test_an_admin_token_is_for_the_operator_alone(seeded):
    url, _, first = seeded
    assert first.returncode == 0, first.stderr
    result = CliRunner().invoke(app, ["token", "issue", "--db", url, "--org", "GOV/EXCHANGE",
                                      "--role", "admin"])
    assert result.exit_code == 0, result.output
    refused = CliRunner().invoke(app, ["token", "issue", "--db", url, "--org", "GOV/DWP",
                                       "--role", "admin"])
    assert refused.exit_code == 2
    engine = make_engine(url)
    with engine.connect() as conn:
        last = conn.execute(select(t.audit_log.c.action, t.audit_log.c.outcome,
                                   t.audit_log.c.reason)
                            .order_by(t.audit_log.c.seq.desc()).limit(1)).one()
    engine.dispose()
    assert tuple(last) == ("token.issue", "deny", "admin_not_operator")


# --- people -------------------------------------------------------------------------------

def test_people_prints_identifier_lines(seeded):
    url, folder, first = seeded
    assert first.returncode == 0, first.stderr

    result = cli("people", "list", "--db", url, "--org", "GOV/DWP", "-n", "5", cwd=folder)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    assert all(re.fullmatch(r"nino [A-Z]{2}\d{6}[A-D]", line) for line in lines), lines
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            known = set(conn.execute(select(t.person_links.c.value)
                                     .where(t.person_links.c.scheme == "nino")).scalars())
    finally:
        engine.dispose()
    assert {line.split()[1] for line in lines} <= known


def test_people_names_each_scheme_an_organisation_uses(seeded):
    url, _, first = seeded
    assert first.returncode == 0, first.stderr

    result = CliRunner().invoke(app, ["people", "list", "--db", url, "--org", "GOV/DVLA",
                                      "-n", "3"])

    assert result.exit_code == 0, result.output
    assert {line.split()[0] for line in result.stdout.splitlines()} <= {"driver", "vrm"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "COM/UNKNOWN"], "COM/UNKNOWN names nobody"),
        (["--org", "GOV/DWP", "-n", "0"], "-n"),
    ],
)
def test_people_bad_input_exits_2(seeded, args, message):
    url, _, first = seeded
    assert first.returncode == 0, first.stderr

    result = CliRunner().invoke(app, ["people", "list", "--db", url, *args])

    assert result.exit_code == 2, result.output
    assert message in flat(result.stderr)
    assert result.stdout == ""


# --- walkthrough --------------------------------------------------------------------------

def test_walkthrough_passes_on_a_fresh_sqlite_world(tmp_path):
    result = cli("walkthrough", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "walkthrough passed" in result.stdout
    assert "✗" not in result.stdout
    # Every pooled client of the HTTP connectors was closed on its own loop.
    assert "Unclosed" not in result.stderr, result.stderr
    # Which connector answered: HMRC and DVLA from their own APIs, the others from SQL.
    told = " ".join(result.stdout.split())
    for answered in ("GOV/HMRC's own API, through the HTTP connector (mutual TLS)",
                     "GOV/DVLA's own API, through the HTTP connector (signed requests)",
                     "GOV/DWP's store, through the sql connector"):
        assert f"answered by {answered}" in told


def test_walkthrough_passes_on_a_fresh_postgres_schema(tmp_path, postgres_url,
                                                       postgres_server):
    result = cli("walkthrough", "--db", postgres_url, cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "walkthrough passed" in result.stdout
    assert "Unclosed" not in result.stderr, result.stderr
    # The world went into the schema it was given, with the provider stores beside it.
    schema = postgres_url.rsplit("%3D", 1)[1]
    engine = make_engine(postgres_server)
    try:
        with engine.connect() as conn:
            assert conn.execute(text(
                f'SELECT count(*) FROM "{schema}".organisations')).scalar_one() > 0
            stores = set(conn.execute(text(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"),
                {"p": f"{schema}\\_%"}).scalars())
    finally:
        engine.dispose()
    assert f"{schema}_gov_hmrc" in stores, stores


REVOCATION_IGNORED = (
    "CREATE TRIGGER broken_revocation AFTER UPDATE OF status ON agreements "
    "WHEN NEW.status = 'revoked' "
    "BEGIN UPDATE agreements SET status = 'approved' WHERE id = NEW.id; END"
)


def broken_database(folder: Path) -> str:
    """A migrated, empty exchange whose database quietly undoes every revocation: the
    kind of misbehaviour the walkthrough exists to catch. No production code is touched."""
    url = f"sqlite:///{folder / 'broken.sqlite'}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text(REVOCATION_IGNORED))
    finally:
        engine.dispose()
    return url


def test_walkthrough_reports_a_misbehaving_step_and_returns_false(tmp_path):
    out = io.StringIO()

    passed = run_walkthrough(broken_database(tmp_path), Console(file=out, width=200),
                             people=200)

    story = out.getvalue()
    assert passed is False
    assert "walkthrough FAILED" in story
    assert "walkthrough passed" not in story
    revoke_step = story.split("HMRC's guardian revokes agreement 1", 1)[1]
    assert revoke_step.lstrip().startswith("✗"), story
    assert "expected refusal agreement_not_active, but the query was answered" in revoke_step
    # Every other step still behaved: exactly one failure.
    assert story.count("✗") == 1, story


def test_walkthrough_exits_non_zero_when_a_step_misbehaves(tmp_path):
    result = cli("walkthrough", "--db", broken_database(tmp_path), cwd=tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "walkthrough FAILED" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("url", [
    "mysql://nobody@nowhere/exchange",
    "not a database url",
    "postgresql+psycopg://nobody@127.0.0.1:1/exchange",  # nothing listens on port 1
], ids=["unsupported", "malformed", "unreachable"])
@pytest.mark.parametrize("command", [
    ["db", "upgrade"],
    ["token", "issue", "--org", "GOV/DWP", "--role", "officer"],
    ["people", "list", "--org", "GOV/DWP"],
    ["demo", "--seed-only", "--people", "5"],
    ["walkthrough"],
], ids=lambda c: c[0])
def test_an_unusable_database_url_exits_2_with_a_message(command, url):
    result = CliRunner().invoke(app, [*command, "--db", url])

    assert result.exit_code == 2, (result.output, result.exception)
    assert f"{url}" in flat(result.stderr)
    assert "Traceback" not in result.output


def test_walkthrough_on_a_database_that_holds_a_world_exits_2(seeded):
    url, folder, first = seeded
    assert first.returncode == 0, first.stderr
    before = counts(url)

    result = cli("walkthrough", "--db", url, cwd=folder)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "already holds a world" in flat(result.stderr)
    assert "Traceback" not in result.stderr
    assert counts(url) == before


@pytest.mark.parametrize("command", [
    ["token", "issue", "--org", "GOV/DWP", "--role", "officer"],
    ["people", "list", "--org", "GOV/DWP"],
])
def test_commands_on_a_database_that_is_not_set_up_exit_2(tmp_path, command):
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    (tmp_path / "empty.sqlite").touch()  # an empty file is an empty SQLite database

    result = CliRunner().invoke(app, [*command, "--db", url])

    assert result.exit_code == 2, result.output
    assert "is not set up" in flat(result.stderr)
    assert result.stdout == ""
    engine = make_engine(url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_unknown_role_is_rejected_by_the_real_process_too(tmp_path):
    result = cli("token", "issue", "--org", "GOV/DWP", "--role", "emperor",
                 "--db", f"sqlite:///{tmp_path / 'none.sqlite'}", cwd=tmp_path)

    assert result.returncode == 2
    assert "emperor" in result.stderr
    assert not (tmp_path / "none.sqlite").exists()



def test_serve_refuses_to_start_without_the_key_file_its_keys_need(tmp_path):
    """A server that cannot decrypt the exchange's private keys could sign nothing: it says
    so and exits 2 instead of answering every query with an error."""
    url = f"sqlite:///{tmp_path / 'exchange.sqlite'}"
    exchange = bootstrap(url)
    try:
        build_world(exchange, url, people=20)
    finally:
        exchange.close()
    other = tmp_path / "other-keys.json"
    create_key_file(other)
    env = {k: v for k, v in os.environ.items() if k != "ONCEONLY_DATABASE_URL"}
    env["ONCEONLY_MASTER_KEY_FILE"] = str(other)

    run = subprocess.run([sys.executable, "-m", "onceonly.entrypoints.cli", "serve", "--db", url,
                          "--port", "1"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, env=env)

    assert run.returncode == 2, run.stdout + run.stderr
    assert "cannot read the exchange's private keys" in flat(run.stderr)


# --- bad database URLs, and commands that only read -----------------------------------------

def files_in(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b""
            for p in folder.rglob("*")}


READ_ONLY = [["people", "list", "--org", "GOV/DWP"], ["audit", "verify"], ["keys", "status"]]
EXISTING = [["token", "issue", "--org", "GOV/DWP", "--role", "officer"]]
SETTING_UP = [["db", "upgrade"], ["demo", "--seed-only", "--people", "5"]]


@pytest.mark.parametrize(("url", "message", "commands"), [
    ("", "the database URL is empty: give sqlite:///FILE or postgresql+psycopg://",
     READ_ONLY + EXISTING + SETTING_UP),
    ("sqlite:///", "sqlite:/// names no file: give the database file's path",
     READ_ONLY + EXISTING + SETTING_UP),
    ("sqlite:///not-a-database.sqlite",
     "cannot open the database sqlite:///not-a-database.sqlite: file is not a database",
     READ_ONLY + EXISTING + SETTING_UP),
    ("sqlite:///nowhere/exchange.sqlite", "there is no database at ", READ_ONLY + EXISTING),
], ids=["empty", "no-file", "not-a-database", "missing"])
def test_a_bad_database_url_is_one_line_exit_2_and_makes_no_file(tmp_path, monkeypatch, url,
                                                                 message, commands):
    """The first command in a process of its own, as a user runs it; the others in this one
    (quicker), from the same folder and without the tests' key file."""
    (tmp_path / "not-a-database.sqlite").write_text("these are notes, not a database\n")
    before = files_in(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ONCEONLY_MASTER_KEY_FILE")

    real = cli(*commands[0], "--db", url, cwd=tmp_path, key_file=False)
    assert "Traceback" not in real.stderr + real.stdout
    results = [(commands[0], real.returncode, real.stderr)]
    for command in commands[1:]:
        result = CliRunner().invoke(app, [*command, "--db", url])
        results.append((command, result.exit_code, result.stderr))

    for command, code, stderr in results:
        assert code == 2, (command, stderr)
        assert message in flat(stderr), (command, stderr)
        assert len(stderr.strip().splitlines()) == 1, (command, stderr)
    assert files_in(tmp_path) == before  # no ./onceonly-data, no empty database, no key file


def test_read_only_commands_make_no_file_on_postgres(tmp_path, postgres_url):
    """Run from any folder, `audit verify`, `people` and `keys status` write nothing there:
    not the default master key file either, which would then stand in the way of `serve`."""
    engine = make_engine(postgres_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()

    verified = cli("audit", "verify", "--db", postgres_url, cwd=tmp_path, key_file=False)
    people = cli("people", "list", "--org", "GOV/DWP", "--db", postgres_url, cwd=tmp_path,
                 key_file=False)
    status = cli("keys", "status", "--db", postgres_url, cwd=tmp_path, key_file=False)

    assert verified.returncode == 0, verified.stderr
    assert "verified 0 entries" in flat(verified.stdout)
    assert people.returncode == 2 and "GOV/DWP names nobody" in flat(people.stderr)
    assert status.returncode == 2, status.stdout + status.stderr
    assert "master-keys.json does not exist" in flat(status.stderr)
    assert "Traceback" not in status.stderr
    assert list(tmp_path.iterdir()) == []


def test_read_only_commands_write_nothing_beside_a_sqlite_exchange(tmp_path):
    folder = tmp_path / "exchange"
    url = f"sqlite:///{folder / 'exchange.sqlite'}"
    exchange = bootstrap(url)
    try:
        build_world(exchange, url, people=20)
    finally:
        exchange.close()
    before = files_in(folder)

    people, verified, status = (cli(*command, "--db", url, cwd=tmp_path, key_file=False)
                                for command in READ_ONLY)

    assert people.returncode == 0 and people.stdout.startswith("nino "), people.stderr
    assert verified.returncode == 0, verified.stderr
    # Its key file is elsewhere (the tests'): said, and no empty one made in its place.
    assert status.returncode == 2 and "does not exist" in flat(status.stderr), status.stderr
    assert files_in(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exchange"]


# --- two exchanges in one folder --------------------------------------------------------------

def test_two_exchanges_in_one_folder_keep_their_own_stores_and_keys(tmp_path):
    """Each exchange's files are named after its database: building a second world beside
    a first never rebuilds the first's provider stores nor shares its master keys."""
    first, second = (f"sqlite:///{tmp_path / name}" for name in ("d.sqlite", "wt.sqlite"))
    built = cli("demo", "--seed-only", "--people", "20", "--db", first, cwd=tmp_path,
                key_file=False)
    assert built.returncode == 0, built.stderr
    first_files = files_in(tmp_path)

    again = cli("demo", "--seed-only", "--people", "30", "--db", second, cwd=tmp_path,
                key_file=False)

    assert again.returncode == 0, again.stderr
    now = files_in(tmp_path)
    for name, content in first_files.items():
        if name.startswith("d.stores/") or name in {"d.master-keys.json", "d.tokens.txt"}:
            assert now[name] == content, name  # the first exchange's files are untouched
    assert {"d.stores/gov_hmrc.sqlite", "wt.stores/gov_hmrc.sqlite", "d.master-keys.json",
            "wt.master-keys.json", "d.tokens.txt", "wt.tokens.txt", "d.logins.txt",
            "wt.logins.txt"} <= now.keys()
    assert not {"stores", "master-keys.json", "tokens.txt"} & now.keys()
    keys = [json.loads(now[f"{name}.master-keys.json"])["current"] for name in ("d", "wt")]
    assert keys[0] != keys[1]
    for url in (first, second):
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                stores = {config["url"] for config in conn.execute(
                    select(t.datasets.c.connector)).scalars() if "url" in config}
        finally:
            engine.dispose()
        folder = make_url(url).database.removesuffix(".sqlite") + ".stores/"
        assert stores and all(store.startswith(f"sqlite:///{folder}") for store in stores), \
            stores
