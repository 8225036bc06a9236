"""`onceonly keys` as an operator runs it: real processes against a real server.

The headline: `keys rotate` run (in a process of its own) while a server answers signed
queries in a loop, on SQLite and on PostgreSQL. No request fails, the server picks up the
new master key without a restart, new data keys are wrapped with it, old ones are re-wrapped
when next used, and `--rewrap-now` re-wraps the rest. Then the refusals: a missing,
unreadable or corrupt key file, the wrong key file, an unusable database: exit 2 and a
message, nothing changed.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner, Result

from onceonly.adapters.clock import MovableClock
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.keystore import add_signing_key, private_key_context
from onceonly.adapters.kms_file import create_key_file
from onceonly.audit.entries import AuditEntry
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.client import OnceonlyClient, VerifiedRelease
from onceonly.crypto.envelope import is_envelope
from onceonly.demo.seed import World, build_world
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running
from onceonly.entrypoints.cli import app
from tests.conftest import WORLD_PEOPLE

ENV = "ONCEONLY_MASTER_KEY_FILE"


def cli(*args: str, cwd: Path, env: dict[str, str | None] | None = None
        ) -> subprocess.CompletedProcess[str]:
    """`python -m onceonly.entrypoints.cli ARGS` in a process of its own."""
    environment = {k: v for k, v in os.environ.items() if k != "ONCEONLY_DATABASE_URL"}
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run([sys.executable, "-m", "onceonly.entrypoints.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=environment)


def flat(output: str) -> str:
    return " ".join(output.split())


def master_ids(path: Path) -> tuple[list[str], str]:
    document = json.loads(path.read_text())
    return [k["id"] for k in document["keys"]], document["current"]


def wrapped_by(exchange: Exchange) -> dict[str, str]:
    with exchange.engine.connect() as conn:
        return {org: master for org, master in conn.execute(
            select(t.data_keys.c.org_id, t.data_keys.c.master_key_id))}


def working_hours_clock() -> MovableClock:
    """A clock at midday in London, whenever the suite runs: the traffic below is a burst
    of queries, which the anomaly rules would rightly notice at night."""
    clock = MovableClock()
    london = datetime.now(ZoneInfo("Europe/London"))
    clock.advance(london.replace(hour=12, minute=0, second=0, microsecond=0) - london)
    return clock


@dataclass
class Keyed:
    url: str
    key_file: Path
    folder: Path


def _keyed(url: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Keyed:
    key_file = folder / "secrets" / "master-keys.json"
    create_key_file(key_file)
    monkeypatch.setenv(ENV, str(key_file))
    return Keyed(url, key_file, folder)


@pytest.fixture
def keyed(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Keyed:
    """A database on each backend, and a key file of its own."""
    return _keyed(db_url, tmp_path, monkeypatch)


@pytest.fixture
def keyed_sqlite(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Keyed:
    """The same on SQLite only: for what does not depend on the database."""
    return _keyed(sqlite_url, tmp_path, monkeypatch)


@pytest.fixture
def served(keyed: Keyed) -> Iterator[tuple[Exchange, World]]:
    exchange = bootstrap(keyed.url, clock=working_hours_clock())
    upgrade(exchange.engine)
    world = build_world(exchange, keyed.url, people=WORLD_PEOPLE)
    yield exchange, world
    exchange.close()


def small(keyed: Keyed) -> Exchange:
    """A migrated exchange with only its operator, whose key signs tree heads, and one audit
    entry waiting to be brought under a signed head."""
    exchange = bootstrap(keyed.url)
    upgrade(exchange.engine)
    now = exchange.clock.now()
    with exchange.engine.begin() as conn:
        conn.execute(insert(t.organisations).values(id="GOV/EXCHANGE", name="Exchange"))
        add_signing_key(conn, "GOV/EXCHANGE", now, envelopes=exchange.envelopes)
    with exchange.uows(write=True) as uow:
        uow.audit.record(AuditEntry("agreement.revoke", "done", "guardian", "GOV/HMRC",
                                    reason="test", agreement_id=1), now)
        uow.commit()
    return exchange


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    """The CLI in this process (Typer's runner): for the many quick refusals."""
    return CliRunner().invoke(app, list(args), env=env)


def test_keys_init_makes_a_private_key_file_and_never_overwrites_one(tmp_path: Path):
    key_file = tmp_path / "secrets" / "master-keys.json"
    url = f"sqlite:///{tmp_path / 'exchange.sqlite'}"

    made = cli("keys", "init", "--db", url, cwd=tmp_path, env={ENV: str(key_file)})

    assert made.returncode == 0, made.stderr
    assert f"made the master key file {key_file} (mode 0600)" in flat(made.stdout)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    unchanged = _unchanged(key_file)
    again = cli("keys", "init", "--db", url, cwd=tmp_path, env={ENV: str(key_file)})
    assert again.returncode == 2
    assert "already exists; it is left as it is" in flat(again.stderr)
    assert unchanged()


# --- rotation under traffic ---------------------------------------------------------------

class Traffic(threading.Thread):
    """Signed queries in a loop, each answer's signature checked against the JWKS; the
    agreements asked under can be added to while it runs."""

    def __init__(self, base_url: str, world: World) -> None:
        super().__init__(name="traffic", daemon=True)
        ids = world.citizen_ids
        as_ = {label: OnceonlyClient(base_url, token=world.token(label)) for label in
               ("officer:GOV/DWP", "officer:LA/NORTHSHIRE", "officer:POL/MET")}
        self.clients = list(as_.values())
        # agreement -> a query signed by its provider: HMRC, DWP, DVLA
        self.asks: dict[int, Callable[[], VerifiedRelease]] = {
            1: lambda: as_["officer:GOV/DWP"].query(
                1, "nino", ids["nino"], ["income_band"], "benefit-entitlement"),
            2: lambda: as_["officer:LA/NORTHSHIRE"].query(
                2, "nino", ids["nino"], ["receives_universal_credit"], "council-tax-reduction"),
            5: lambda: as_["officer:POL/MET"].query(
                5, "driver", ids["driver"], ["full_name", "address"], "crime-prevention"),
        }
        self.enabled = [1]
        self.answered: Counter[int] = Counter()
        self.failures: list[tuple[int, str]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            for agreement in list(self.enabled):
                try:
                    release = self.asks[agreement]()
                    assert release.data, release
                    self.answered[agreement] += 1
                except Exception as failure:  # noqa: BLE001 - every failure is the finding
                    self.failures.append((agreement, repr(failure)))
            time.sleep(0.005)

    def total(self) -> int:
        return sum(self.answered.values())

    def wait_for(self, count: int, agreement: int | None = None, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        done = (lambda: self.answered[agreement]) if agreement else self.total
        start = done()
        while done() < start + count:
            assert not self.failures, self.failures
            assert time.monotonic() < deadline, f"only {done() - start} answers in {timeout}s"
            time.sleep(0.01)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=30)
        for client in self.clients:
            client.close()


def test_keys_rotate_in_the_middle_of_traffic_fails_no_request(keyed: Keyed, served):
    exchange, world = served
    first = master_ids(keyed.key_file)[1]
    assert set(wrapped_by(exchange).values()) == {first}

    with running(create_app(exchange)) as base:
        traffic = Traffic(base, world)
        traffic.start()
        try:
            traffic.wait_for(20)

            # 1. Rotate while HMRC's answers are being signed.
            before = traffic.total()
            rotated = cli("keys", "rotate", "--db", keyed.url, cwd=keyed.folder)
            during = traffic.total() - before
            assert rotated.returncode == 0, rotated.stderr
            held, second = master_ids(keyed.key_file)
            assert held == [first, second]
            assert f"master key {second} is now current" in flat(rotated.stdout)
            assert "12 data keys are still wrapped by older master keys" in flat(rotated.stdout)
            assert during > 0, "no request was answered while the rotation ran"

            # 2. The server meets DWP's key for the first time after the rotation: the old
            # master key unwraps it, and it is re-wrapped with the new one.
            traffic.enabled.append(2)
            traffic.wait_for(20, agreement=2)
            assert wrapped_by(exchange)["GOV/DWP"] == second
            assert wrapped_by(exchange)["GOV/HMRC"] == first  # in memory, not used from disk

            # 3. A new organisation's key, made by the running server: a new data key, wrapped
            # with the master key another process made current.
            with exchange.engine.begin() as conn:
                conn.execute(insert(t.organisations).values(id="GOV/NEW", name="New"))
                add_signing_key(conn, "GOV/NEW", exchange.clock.now(),
                                envelopes=exchange.envelopes)
            assert wrapped_by(exchange)["GOV/NEW"] == second

            # 4. Rotate again and re-wrap everything now, still under traffic.
            before = traffic.total()
            again = cli("keys", "rotate", "--rewrap-now", "--db", keyed.url, cwd=keyed.folder)
            during = traffic.total() - before
            assert again.returncode == 0, again.stderr
            held, third = master_ids(keyed.key_file)
            assert held == [first, second, third]
            assert f"re-wrapped 13 data keys under {third}" in flat(again.stdout)
            assert "still wrapped" not in again.stdout
            assert during > 0, "no request was answered while the rotation ran"
            assert set(wrapped_by(exchange).values()) == {third}

            # 5. DVLA's key, wrapped by a master key the server has not loaded yet.
            traffic.enabled.append(5)
            traffic.wait_for(20, agreement=5)
            traffic.wait_for(20, agreement=1)
        finally:
            traffic.stop()

    assert traffic.failures == []
    assert all(traffic.answered[a] >= 20 for a in (1, 2, 5)), traffic.answered
    with exchange.engine.connect() as conn:
        assert all(is_envelope(value) for value in
                   conn.execute(select(t.signing_keys.c.private_jwk)).scalars())
    status = cli("keys", "status", "--db", keyed.url, cwd=keyed.folder)
    assert status.returncode == 0, status.stderr
    assert f"{third} made" in flat(status.stdout)
    assert "wraps 13 data keys current" in flat(status.stdout)
    assert "13 data keys; 0 private keys in plaintext" in flat(status.stdout)


def test_rotate_encrypts_private_keys_left_in_plaintext(keyed: Keyed):
    exchange = small(keyed)
    try:
        with exchange.engine.begin() as conn:  # as a row from before encryption at rest
            row = conn.execute(select(t.signing_keys)).one()
            jwk = exchange.envelopes.decrypt(row.private_jwk, private_key_context(
                "GOV/EXCHANGE", row.kid))
            conn.execute(t.signing_keys.update().where(t.signing_keys.c.kid == row.kid)
                         .values(private_jwk=json.loads(jwk)))
    finally:
        exchange.close()

    status = invoke("keys", "status", "--db", keyed.url)
    assert "1 data keys; 1 private keys in plaintext" in flat(status.stdout), status.output
    result = invoke("keys", "rotate", "--db", keyed.url)

    assert result.exit_code == 0, result.output
    assert "encrypted 1 private keys that were stored in plaintext" in flat(result.stdout)
    # Encrypting used the organisation's data key, which was re-wrapped on the way.
    assert "still wrapped" not in result.stdout
    assert "0 private keys in plaintext" in flat(invoke("keys", "status", "--db",
                                                        keyed.url).stdout)
    signed = cli("audit", "integrate", "--db", keyed.url, cwd=keyed.folder)
    assert signed.returncode == 0, signed.stderr


# --- refusals -----------------------------------------------------------------------------

def _unchanged(path: Path) -> Callable[[], None]:
    before = path.read_bytes() if path.is_file() else None
    return lambda: (path.read_bytes() if path.is_file() else None) == before


@pytest.mark.parametrize("command", [["keys", "rotate"], ["keys", "rotate", "--rewrap-now"],
                                     ["keys", "status"], ["audit", "integrate"]],
                         ids=lambda c: " ".join(c))
@pytest.mark.parametrize("problem", ["missing", "unreadable", "corrupt", "no-current",
                                     "short-key"])
def test_a_bad_key_file_exits_2_with_a_message(keyed_sqlite: Keyed, command, problem):
    keyed = keyed_sqlite
    small(keyed).close()
    bad = keyed.folder / "bad-keys.json"
    if problem == "unreadable":
        bad.mkdir()
    elif problem == "corrupt":
        bad.write_text('{"format": "onceonly-master-keys/1", "keys": [')
    elif problem in ("no-current", "short-key"):
        document = json.loads(keyed.key_file.read_text())
        if problem == "no-current":
            document["current"] = "mk-gone"
        else:
            document["keys"][0]["key"] = "c2hvcnQ="
        bad.write_text(json.dumps(document))
    unchanged = _unchanged(bad)
    expected = {"missing": f"the master key file {bad} does not exist",
                "unreadable": f"cannot read the master key file {bad}",
                "corrupt": f"the master key file {bad} is not valid: not JSON",
                "no-current": "\"current\" ('mk-gone') names none of its keys",
                "short-key": "is 5 bytes, not 32"}[problem]

    result = invoke(*command, "--db", keyed.url, env={ENV: str(bad)})

    assert result.exit_code == 2, (result.output, result.exception)
    assert expected in flat(result.stderr), result.stderr
    assert unchanged()
    assert not (problem == "missing" and bad.exists())


def test_a_missing_key_file_exits_2_in_a_real_process_too(keyed: Keyed):
    small(keyed).close()
    missing = keyed.folder / "nowhere" / "master-keys.json"

    result = cli("keys", "rotate", "--db", keyed.url, cwd=keyed.folder, env={ENV: str(missing)})

    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f"the master key file {missing} does not exist, yet 1 data keys of this " \
           "database are wrapped by master keys in it: restore it" in flat(result.stderr)
    assert "Traceback" not in result.stderr
    assert not missing.parent.exists()


def test_rotate_refuses_a_key_file_this_database_was_not_set_up_with(keyed: Keyed):
    small(keyed).close()
    other = keyed.folder / "other-keys.json"
    create_key_file(other)
    unchanged, ours = _unchanged(other), _unchanged(keyed.key_file)

    result = invoke("keys", "rotate", "--db", keyed.url, env={ENV: str(other)})

    assert result.exit_code == 2, result.output
    first = master_ids(keyed.key_file)[1]
    assert f"the master key file {other} lacks {first}, which wrap 1 data keys" in flat(
        result.stderr)
    assert "Nothing was changed" in flat(result.stderr)
    assert unchanged() and ours()


@pytest.mark.parametrize("url", [
    "mysql://nobody@nowhere/exchange", "not a database url",
    "postgresql+psycopg://nobody@127.0.0.1:1/exchange"],
    ids=["unsupported", "malformed", "unreachable"])
@pytest.mark.parametrize("command", [["keys", "rotate"], ["keys", "rotate", "--rewrap-now"],
                                     ["keys", "status"]], ids=lambda c: " ".join(c))
def test_keys_on_an_unusable_database_exit_2(tmp_path: Path, command, url):
    key_file = tmp_path / "master-keys.json"
    create_key_file(key_file)
    unchanged = _unchanged(key_file)

    result = invoke(*command, "--db", url, env={ENV: str(key_file)})

    assert result.exit_code == 2, (result.output, result.exception)
    assert url in flat(result.stderr)
    assert unchanged()


def test_keys_rotate_on_a_database_that_is_not_set_up_exits_2(tmp_path: Path):
    key_file = tmp_path / "master-keys.json"
    create_key_file(key_file)
    unchanged = _unchanged(key_file)
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    (tmp_path / "empty.sqlite").touch()  # an empty file is an empty SQLite database

    result = cli("keys", "rotate", "--db", url, cwd=tmp_path, env={ENV: str(key_file)})

    assert result.returncode == 2
    assert "is not set up" in flat(result.stderr)
    assert "Traceback" not in result.stderr
    assert unchanged()


# --- the default key file -----------------------------------------------------------------

def test_without_configuration_the_key_file_is_made_beside_the_sqlite_database(tmp_path):
    """The demo needs no set-up: the key file is made, 0600, beside the database, and found
    there by a later process started from anywhere else."""
    folder = tmp_path / "world"
    url = f"sqlite:///{folder / 'exchange.sqlite'}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    seeded = cli("demo", "--seed-only", "--people", "20", "--db", url, cwd=tmp_path,
                 env={ENV: None})
    assert seeded.returncode == 0, seeded.stderr
    key_file = folder / "exchange.master-keys.json"  # named after its database
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first = master_ids(key_file)[1]

    signed = cli("audit", "integrate", "--db", url, cwd=elsewhere, env={ENV: None})
    assert signed.returncode == 0, signed.stderr
    rotated = cli("keys", "rotate", "--rewrap-now", "--db", url, cwd=elsewhere,
                  env={ENV: None})
    assert rotated.returncode == 0, rotated.stderr
    assert master_ids(key_file)[0][0] == first and len(master_ids(key_file)[0]) == 2
    assert not (elsewhere / "onceonly-data").exists()
    assert not (tmp_path / "onceonly-data").exists()

    # A lost key file is not silently replaced by a new one.
    key_file.rename(folder / "moved-away.json")
    for command in (["keys", "rotate"], ["keys", "status"]):
        lost = invoke(*command, "--db", url, env={ENV: None})
        assert lost.exit_code == 2, lost.output
        assert f"the master key file {key_file} does not exist, yet 12 data keys" in flat(
            lost.stderr)
        assert not key_file.exists()


def test_working_hours_clock_is_inside_working_hours():
    london = working_hours_clock().now().astimezone(ZoneInfo("Europe/London"))
    assert london.hour == 12 and london.date() == datetime.now(ZoneInfo("Europe/London")).date()
    assert abs(working_hours_clock().now() - datetime.now(UTC)) < timedelta(hours=13)
