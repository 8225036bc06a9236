"""Backup and restore, drilled as docs/operations.md tells an operator to: on SQLite with
`onceonly backup` and on PostgreSQL with `pg_dump --format=custom` and `pg_restore` into a
new database, each taken while a real server answers a steady load of queries and reports
whose deliveries a real worker is sending. Then the restored copy is started, with the
master key from its own, separate backup, and: `audit verify` passes on it, `audit check`
proves its log extends the tree head saved before the backup, and every report accepted
before the backup is there with each of its deliveries delivered (those in flight at the
backup are sent after the restore).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy
from sqlalchemy import select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.migrate import upgrade
from onceonly.bootstrap import bootstrap
from onceonly.demo.seed import World, build_world
from onceonly.demo.stores import linked_people
from onceonly.entrypoints.api.server import running
from onceonly.entrypoints.cli import app
from tests.support.servers import Server, start_server, stop, wait_healthy

DEATH = "gov.onceonly.death.registered"
WEBHOOKS = ("GOV/HMRC", "GOV/DWP", "GOV/DVLA", "GOV/HMPO")
DRILL_PEOPLE = 400  # a death reported for a different person each time
CLI = [sys.executable, "-m", "onceonly.entrypoints.cli"]


class Receiver:
    """The organisations' webhook endpoints: takes every notification (a little slowly, so
    some are in flight at any moment) and counts them by event id."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.holding = threading.Event()  # while set, requests wait unanswered
        self.held = 0  # requests waiting now

    async def __call__(self, scope, receive, send) -> None:
        import asyncio

        body, more = bytearray(), True
        while more:
            message = await receive()
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
        self.held += 1
        while self.holding.is_set():
            await asyncio.sleep(0.01)
        self.held -= 1
        await asyncio.sleep(0.05)
        self.seen[json.loads(body)["id"]] += 1
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})


def start_worker(db_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "ONCEONLY_DELIVERY_LEASE_SECONDS": "10",
           "ONCEONLY_DELIVERY_BACKOFF_SECONDS": "0.05",
           "ONCEONLY_DELIVERY_BACKOFF_CAP_SECONDS": "0.5"}
    with log.open("ab") as out:
        return subprocess.Popen([*CLI, "worker", "--db", db_url], stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)


def end(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(30)


@contextmanager
def serving(db_url: str, folder: Path) -> Iterator[Server]:
    folder.mkdir(parents=True, exist_ok=True)
    server = start_server(db_url, folder / "server.log")
    worker = start_worker(db_url, folder / "worker.log")
    try:
        wait_healthy(server)
        yield server
    finally:
        end(worker)
        stop(server)


class Load:
    """A steady load on a live server: an officer's queries and a registrar's reports of
    deaths, each on a thread of its own, until stopped."""

    def __init__(self, base_url: str, world: World, people: Iterator) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.world, self.people = world, people
        self.answered = 0
        self.accepted: list[str] = []  # report ids, in the order they were accepted
        self.failures: list[str] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._loop, args=(step, pause), daemon=True)
                        for step, pause in ((self._query, 0.2), (self._report, 0.1))]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)
        self.http.close()

    def _loop(self, step: Callable[[], None], pause: float) -> None:
        while not self.stopping.is_set():
            try:
                step()
            except Exception as error:  # noqa: BLE001 - every failure is a finding
                self.failures.append(repr(error))
            self.stopping.wait(pause)

    def _query(self) -> None:
        response = self.http.post("/v1/queries", headers=self._auth("officer:GOV/DWP"), json={
            "agreement_id": 1, "fields": ["income_band"], "purpose": "benefit-entitlement",
            "subject": {"scheme": "nino", "value": self.world.citizen_ids["nino"]}})
        if response.status_code != 200:
            self.failures.append(f"query {response.status_code}: {response.text}")
        self.answered += 1

    def _report(self) -> None:
        person = next(self.people)
        response = self.http.post(
            "/v1/events", headers=self._auth("officer:GOV/GRO") | {
                "Content-Type": "application/cloudevents+json"},
            content=json.dumps({
                "specversion": "1.0", "id": f"death-{uuid.uuid4().hex}",
                "source": "GOV/GRO/deaths", "type": DEATH,
                "subject": f"grn:{person.ids['grn']}",
                "data": {"full_name": person.full_name, "date_of_death": "2026-11-20"}}))
        if response.status_code != 202:
            self.failures.append(f"report {response.status_code}: {response.text}")
            return
        self.accepted.append(response.json()["report_id"])

    def _auth(self, label: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.world.token(label)}"}

    def wait_for(self, reports: int, queries: int, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while len(self.accepted) < reports or self.answered < queries:
            assert not self.failures, self.failures[:3]
            assert time.monotonic() < deadline, "the load made no progress"
            time.sleep(0.05)


def bearer(world: World, label: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.token(label)}"}


def deliveries(db_url: str, reports: list[str]) -> list[tuple[str, str, str]]:
    """(report id, delivery id, status) of each webhook delivery of the reports (a
    notification's CloudEvent id is its delivery's id)."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(
                select(t.deliveries.c.report_id, t.deliveries.c.id,
                       t.deliveries.c.status).where(
                    t.deliveries.c.report_id.in_(reports), t.deliveries.c.mode == "webhook"))]
    finally:
        engine.dispose()


def serve_under_load(source_url: str, folder: Path, world: World, people: Iterator,
                     receivers: str, receiver: Receiver, state: Path,
                     back_up: Callable[[], None]) -> tuple[list[str], int]:
    """Serve the source database under load, save a tree head, back it up while deliveries
    are in flight; return the reports accepted before the backup and the saved head's size."""
    with serving(source_url, folder / "before") as server:
        for org in WEBHOOKS:
            answer = httpx.put(f"{server.base_url}/v1/notification-endpoint",
                               headers=bearer(world, f"guardian:{org}"),
                               json={"url": f"{receivers}/{org}"})
            assert answer.status_code == 204, answer.text
        with Load(server.base_url, world, people) as load:
            load.wait_for(reports=5, queries=5)
            checked = cli("audit", "check", "--url", server.base_url, "--state", str(state))
            assert checked.returncode == 0, checked.stdout + checked.stderr
            saved_size = json.loads(state.read_text())["tree_size"]
            # The receivers hold their answers: deliveries are in flight during the backup.
            receiver.holding.set()
            load.wait_for(reports=len(load.accepted) + 2, queries=load.answered)
            deadline = time.monotonic() + 60
            while not receiver.held:
                assert time.monotonic() < deadline, "no delivery reached the receivers"
                time.sleep(0.05)
            before, answered = list(load.accepted), load.answered
            back_up()
            receiver.holding.clear()
            load.wait_for(reports=len(load.accepted) + 5, queries=load.answered + 3)
            assert not load.failures, load.failures[:3]
        assert load.answered > answered  # the server served while the backup ran
    return before, saved_size


def drill(source_url: str, folder: Path, back_up: Callable[[], None],
          restore: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> None:
    # long: the drill is one story, told in the order an operator lives it
    exchange = bootstrap(source_url)
    upgrade(exchange.engine)
    world = build_world(exchange, source_url, people=DRILL_PEOPLE)
    # The load's one officer queries steadily, at any hour: its consumer's operator allows
    # that burst outside working hours (the default rule suspends at 100 an hour).
    exchange.anomaly.set_rule("GOV/DWP", None, "off_hours", 100_000, 3600)
    citizen = world.citizen_ids["nino"]
    people = (p for p in linked_people(exchange.engine, DRILL_PEOPLE, ("grn",))
              if p.ids.get("nino") != citizen)
    exchange.close()
    # The master key's own backup, kept apart from the database's (docs/operations.md).
    key_backup = folder / "kept-apart" / "master-keys.json"
    key_backup.parent.mkdir()
    shutil.copy2(os.environ["ONCEONLY_MASTER_KEY_FILE"], key_backup)
    state = folder / "tree-head.json"
    receiver = Receiver()
    with running(receiver) as receivers:
        before, saved_size = serve_under_load(source_url, folder, world, people, receivers,
                                              receiver, state, back_up)
        restored_url = restore()
        in_copy = deliveries(restored_url, before)
        in_flight = [d for d in in_copy if d[2] != "delivered"]
        assert in_flight, "the drill should catch deliveries in flight at the backup"
        # The restored exchange runs with the master key from its separate backup.
        monkeypatch.setenv("ONCEONLY_MASTER_KEY_FILE", str(key_backup))
        verified = cli("audit", "verify", "--db", restored_url)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        with serving(restored_url, folder / "after") as server:
            checked = cli("audit", "check", "--url", server.base_url, "--state", str(state))
            assert checked.returncode == 0, checked.stdout + checked.stderr
            assert json.loads(state.read_text())["tree_size"] >= saved_size
            for report in before:
                answer = httpx.get(f"{server.base_url}/v1/reports/{report}",
                                   headers=bearer(world, "officer:GOV/GRO"))
                assert answer.status_code == 200, answer.text
            deadline = time.monotonic() + 90
            while {d[2] for d in deliveries(restored_url, before)} != {"delivered"}:
                assert time.monotonic() < deadline, deliveries(restored_url, before)
                time.sleep(0.1)
    sent = deliveries(restored_url, before)
    assert {d[1] for d in sent} == {d[1] for d in in_copy}
    assert all(receiver.seen[delivery] >= 1 for _, delivery, _ in sent)
    print(f"{len(before)} reports accepted before the backup, {len(sent)} deliveries, "
          f"{len(in_flight)} in flight at the backup and delivered after the restore")


def test_sqlite_backup_under_load_restores_intact(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    source = f"sqlite:///{tmp_path / 'exchange.sqlite'}"
    copy = tmp_path / "backups" / "exchange-backup.sqlite"
    copy.parent.mkdir()

    def back_up() -> None:
        made = cli("backup", "--db", source, str(copy))
        assert made.returncode == 0, made.stdout + made.stderr
        assert "not in the backup: the master key file" in made.stdout

    def restore() -> str:
        # Restoring is copying the backup into place, under a new name here.
        restored = tmp_path / "restored" / "exchange.sqlite"
        restored.parent.mkdir()
        shutil.copy2(copy, restored)
        return f"sqlite:///{restored}"

    drill(source, tmp_path, back_up, restore, monkeypatch)


@pytest.mark.postgres
def test_postgresql_pg_dump_under_load_restores_into_a_new_database(
        tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = make_url(postgres_url)
    schema = url.query["options"].removeprefix("-csearch_path=")
    libpq = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    dump = tmp_path / "exchange.dump"
    database = f"restored_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(url.set(query={}), isolation_level="AUTOCOMMIT")

    def back_up() -> None:
        for tool in ("pg_dump", "pg_restore"):
            assert shutil.which(tool), f"{tool} is not installed: apt-get install " \
                                       "postgresql-client"
        # The test server is shared, so the dump takes this test's schema; an exchange of
        # its own database is dumped whole (docs/operations.md).
        made = subprocess.run(["pg_dump", "--format=custom", f"--schema={schema}",
                               f"--file={dump}", libpq], capture_output=True, text=True,
                              timeout=300)
        assert made.returncode == 0, made.stderr

    def restore() -> str:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{database}"'))
        target = url.set(database=database, query={})
        into = target.set(drivername="postgresql").render_as_string(hide_password=False)
        done = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error",
                               f"--dbname={into}", str(dump)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return target.update_query_dict({"options": f"-csearch_path={schema}"}) \
            .render_as_string(hide_password=False)

    try:
        drill(postgres_url, tmp_path, back_up, restore, monkeypatch)
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


# --- refusals: exit 2, a message, nothing made or changed --------------------------------

def test_a_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'exchange.sqlite'}"
    exchange = bootstrap(source)
    upgrade(exchange.engine)
    exchange.close()
    existing = tmp_path / "backup.sqlite"
    existing.write_bytes(b"an earlier backup")
    result = CliRunner().invoke(app, ["backup", "--db", source, str(existing)])
    assert result.exit_code == 2
    assert "exists: a backup never overwrites a file" in result.stderr
    assert existing.read_bytes() == b"an earlier backup"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".backup")) == []


def test_a_postgresql_database_is_sent_to_pg_dump(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["backup", "--db",
                                      "postgresql+psycopg://postgres@127.0.0.1/test",
                                      str(tmp_path / "b.sqlite")])
    assert result.exit_code == 2
    assert "pg_dump --format=custom" in result.stderr
    assert not (tmp_path / "b.sqlite").exists()


def test_a_missing_database_is_not_backed_up(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["backup", "--db",
                                      f"sqlite:///{tmp_path / 'none.sqlite'}",
                                      str(tmp_path / "b.sqlite")])
    assert result.exit_code == 2
    assert "there is no database at" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_database_is_refused_and_leaves_no_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database " * 100)
    result = CliRunner().invoke(app, ["backup", "--db", f"sqlite:///{junk}",
                                      str(tmp_path / "b.sqlite")])
    assert result.exit_code == 2
    assert "cannot back up" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.sqlite"]
