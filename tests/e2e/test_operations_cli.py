"""The operator's commands, as real processes: `onceonly config` (the settings in effect,
where each came from, checked), `onceonly db current|history|downgrade`, and `serve` and
`worker` refusing a database migrated past what the code knows or a bad setting."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.migrate import current_revision, head_revision, history, upgrade
from onceonly.bootstrap import bootstrap
from onceonly.config import CONFIG_VARIABLE, Settings, variable
from onceonly.demo.seed import build_world
from onceonly.entrypoints.cli import app
from tests.support.postgres import fresh_schema

# Every setting, unset unless a test gives it (the tests' master key file stays); and put
# back after each command, which may set some for the processes it would start.
SETTINGS = {name: None for setting in Settings.model_fields
            for name in (variable(setting), variable(setting) + "_FILE")
            if name != "ONCEONLY_MASTER_KEY_FILE"} | {CONFIG_VARIABLE: None}


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run(*args: str, cwd: Path, **env: str) -> Ran:
    """The command in this process (Typer's runner): each start of a process costs seconds
    on a loaded machine. test_serve_and_worker_refuse_... runs real processes."""
    kept = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args), env={**SETTINGS, "COLUMNS": "200", **env})
    finally:
        os.chdir(kept)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit), result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    return subprocess.run([sys.executable, "-m", "onceonly.entrypoints.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={**environment, "COLUMNS": "200"})


def flat(text: str) -> str:
    return " ".join(text.split())


def revision_of(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


# --- onceonly config ----------------------------------------------------------------------

def test_config_shows_each_value_masked_with_its_source(tmp_path: Path) -> None:
    settings = tmp_path / "onceonly.toml"
    settings.write_text('audit_interval = 5\nlog_level = "debug"\n')
    secret = tmp_path / "db-url"
    secret.write_text("postgresql+psycopg://app:hunter2@db.internal/exchange\n")

    shown = run("config", "--config", str(settings), cwd=tmp_path,
                ONCEONLY_DATABASE_URL_FILE=str(secret), ONCEONLY_OPERATOR_ORG="GOV/OPS",
                ONCEONLY_LOG_LEVEL="warning")

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "ONCEONLY_DATABASE_URL = postgresql+psycopg://app:***@db.internal/exchange  " \
           "(secret file)" in lines
    assert "ONCEONLY_OPERATOR_ORG = GOV/OPS  (environment)" in lines
    assert "ONCEONLY_LOG_LEVEL = warning  (environment)" in lines
    assert f"ONCEONLY_AUDIT_INTERVAL = 5.0  (config file {settings})" in lines
    assert "ONCEONLY_DELIVERY_LEASE_SECONDS = 30.0  (default)" in lines
    assert "ONCEONLY_REQUIRE_SIGNATURES = (empty)  (default)" in lines
    assert "hunter2" not in shown.stdout + shown.stderr


def test_config_check_exits_2_naming_each_bad_value(tmp_path: Path) -> None:
    settings = tmp_path / "onceonly.toml"
    settings.write_text("delivery_lease_seconds = -3\n")
    checked = run("config", "--check", cwd=tmp_path, ONCEONLY_CONFIG=str(settings),
                  ONCEONLY_AUDIT_INTERVAL="soon", ONCEONLY_TRUSTED_PROXIES="10.0.0.1,proxy",
                  ONCEONLY_DATABASE_URL="postgresql://app:hunter2@db/x")
    assert checked.returncode == 2
    errors = flat(checked.stderr)
    for named in ("ONCEONLY_AUDIT_INTERVAL = 'soon' (from the environment)",
                  "ONCEONLY_TRUSTED_PROXIES = '10.0.0.1,proxy' (from the environment): "
                  "'proxy' is not an IP address",
                  f"ONCEONLY_DELIVERY_LEASE_SECONDS = -3 (from the config file {settings})"):
        assert named in errors, errors
    assert errors.count("error: ") == 3 and "Traceback" not in checked.stderr

    fine = run("config", "--check", cwd=tmp_path)
    assert fine.returncode == 0 and "the configuration is valid" in fine.stdout


def test_config_check_names_a_master_key_file_that_is_not_there(tmp_path: Path) -> None:
    checked = run("config", "--check", cwd=tmp_path,
                  ONCEONLY_MASTER_KEY_FILE=str(tmp_path / "gone.json"))
    assert checked.returncode == 2
    assert f"ONCEONLY_MASTER_KEY_FILE = '{tmp_path / 'gone.json'}': the file does not " \
           "exist" in flat(checked.stderr)


def test_serve_and_worker_refuse_a_bad_setting_before_anything(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'exchange.sqlite'}"
    for command in ("serve", "worker"):
        refused = run(command, "--db", url, cwd=tmp_path, ONCEONLY_DELIVERY_MAX_ATTEMPTS="0",
                      ONCEONLY_TRUSTED_PROXIES="10.0.0.1")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "ONCEONLY_DELIVERY_MAX_ATTEMPTS = '0' (from the environment): Input should " \
               "be greater than 0" in flat(refused.stderr)
    refused = run("serve", "--db", url, "--forwarded-allow-ips", "10.0.0.1,*", cwd=tmp_path)
    assert refused.returncode == 2
    assert "ONCEONLY_TRUSTED_PROXIES = '10.0.0.1,*' (from the command line): '*' is not an " \
           "IP address or network" in flat(refused.stderr)
    assert list(tmp_path.iterdir()) == []


def test_the_configuration_reference_is_what_config_markdown_prints(tmp_path: Path) -> None:
    printed = run("config", "--markdown", cwd=tmp_path)
    assert printed.returncode == 0
    assert printed.stdout == (Path(__file__).parents[2] / "docs/configuration.md").read_text()


# --- onceonly db --------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgres"])
def world_url(request: pytest.FixtureRequest, tmp_path: Path):
    """A demo world's database, a SQLite file or a fresh PostgreSQL schema."""
    def built(url: str) -> str:
        exchange = bootstrap(url)
        try:
            upgrade(exchange.engine)
            build_world(exchange, url, people=20)
        finally:
            exchange.close()
        return url

    if request.param == "sqlite":
        yield built(f"sqlite:///{tmp_path / 'exchange.sqlite'}")
        return
    with fresh_schema(request.getfixturevalue("postgres_server")) as url:
        yield built(url)


def test_db_current_history_and_downgrade_and_back(world_url: str, tmp_path: Path) -> None:
    head = head_revision()
    current = run("db", "current", "--db", world_url, cwd=tmp_path)
    assert (current.returncode, current.stdout.strip()) == (0, f"{head} up to date")

    listed = run("db", "history", "--db", world_url, cwd=tmp_path)
    lines = listed.stdout.splitlines()
    assert len(lines) == len(history()) and lines[-1].startswith("base -> 0001")
    assert lines[0].endswith("(current)") and lines[0].split()[2] == head
    assert sum("(current)" in line for line in lines) == 1

    unconfirmed = run("db", "downgrade", "0003", "--db", world_url, cwd=tmp_path)
    assert unconfirmed.returncode == 2 and "--yes" in flat(unconfirmed.stderr)
    assert revision_of(world_url) == head  # nothing done

    down = run("db", "downgrade", "0003", "--yes", "--db", world_url, cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    assert revision_of(world_url) == "0003"  # through 0004: its keys decrypted with them
    behind = run("db", "current", "--db", world_url, cwd=tmp_path)
    assert behind.stdout.strip() == f"0003 behind this onceonly ({head}): run `onceonly db " \
                                    "upgrade`"
    refused = run("worker", "--db", world_url, cwd=tmp_path)
    assert refused.returncode == 2 and "onceonly db upgrade" in flat(refused.stderr)

    up = run("db", "upgrade", "--db", world_url, cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    assert revision_of(world_url) == head


@pytest.mark.parametrize(("args", "message"), [
    (("downgrade", "0042", "--yes"), "'0042' is no revision this onceonly knows"),
    (("downgrade", "nonsense"), "'nonsense' is no revision this onceonly knows"),
])
def test_db_downgrade_refuses_a_revision_it_does_not_know(tmp_path: Path, args: tuple[str, ...],
                                                          message: str) -> None:
    url = f"sqlite:///{tmp_path / 'exchange.sqlite'}"
    upgrade(make_engine(url))
    refused = run("db", *args, "--db", url, cwd=tmp_path)
    assert refused.returncode == 2
    assert message in flat(refused.stderr)
    assert revision_of(url) == head_revision()


def test_db_current_of_a_database_not_set_up_or_absent(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    current = run("db", "current", "--db", f"sqlite:///{empty}", cwd=tmp_path)
    assert current.stdout.strip() == "(none) not set up: run `onceonly db upgrade`"
    absent = run("db", "current", "--db", f"sqlite:///{tmp_path / 'absent.sqlite'}",
                 cwd=tmp_path)
    assert absent.returncode == 2 and "there is no database" in flat(absent.stderr)
    assert not (tmp_path / "absent.sqlite").exists()


def test_serve_worker_and_upgrade_refuse_a_database_migrated_past_this_code(world_url: str,
                                                                             tmp_path: Path
                                                                             ) -> None:
    engine = make_engine(world_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0999'")
    finally:
        engine.dispose()
    head = head_revision()
    for args in (("serve", "--port", "1"), ("worker",), ("db", "upgrade"),
                 ("db", "downgrade", head, "--yes")):
        started = process if args[0] in ("serve", "worker") else run
        refused = started(*args, "--db", world_url, cwd=tmp_path)
        assert refused.returncode == 2, (args, refused.stdout, refused.stderr)
        assert f"is at schema revision 0999, which this onceonly does not know (it knows up " \
               f"to {head}): a newer onceonly migrated it" in flat(refused.stderr), args
    assert revision_of(world_url) == "0999"
    current = run("db", "current", "--db", world_url, cwd=tmp_path)
    assert current.stdout.strip() == f"0999 ahead of this onceonly, which knows up to {head}"
