"""compose.yaml's services run for real, without a registry: each one's exact command line
and environment (tests/architecture/test_compose_file.py holds them to the image), against
a PostgreSQL schema, with only what a container has of its own put here instead: the
database's address, the master key secret's path, and the loopback ports to listen on.

A server started before the init step is unready (the exchange has no operator yet); after
it, ready by the compose file's own health check; the init step run again changes nothing
and exits 0, and an init step that would initialise as another operator still fails."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.architecture.test_compose_file import SERVICES, command_of, environment
from tests.support.postgres import free_port, fresh_schema
from tests.support.servers import START_TIMEOUT, Server, stop

ONCEONLY = [sys.executable, "-m", "onceonly.entrypoints.cli"]  # the image's `onceonly`


def env_of(name: str, db_url: str, key_file: Path) -> dict[str, str]:
    """The service's environment, with the database and the secret where they are here."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONCEONLY_")}
    return {**env, **environment(name), "ONCEONLY_DATABASE_URL": db_url,
            "ONCEONLY_MASTER_KEY_FILE": str(key_file), "PYTHONUNBUFFERED": "1"}


def on_loopback(args: list[str], ports: dict[str, int]) -> list[str]:
    """The command with 0.0.0.0 as 127.0.0.1 and each port as a free one (ports: old->new)."""
    loopback = {"0.0.0.0": "127.0.0.1", **{str(old): str(new) for old, new in ports.items()}}
    return [loopback.get(arg, arg) for arg in args]


def run(name: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ONCEONLY, *command_of(SERVICES[name])[1:]], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def health_check(name: str, ports: dict[str, int]) -> subprocess.CompletedProcess[str]:
    """The service's compose health check, run as the container would (python3 -c ...)."""
    test = SERVICES[name]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python3", "-c"]
    code = test[3]
    for old, new in ports.items():
        code = code.replace(f":{old}/", f":{new}/")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=30)


def started(name: str, ports: dict[str, int], env: dict[str, str], log: Path) -> Server:
    args = on_loopback(command_of(SERVICES[name])[1:], ports)
    with log.open("wb") as out:
        process = subprocess.Popen([*ONCEONLY, *args], env=env, cwd=log.parent,
                                   stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    return Server(process, "", log)


def until_answers(server: Server, url: str) -> httpx.Response:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert server.process.poll() is None, f"it exited:\n{server.log_text()}"
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"{url} never answered:\n{server.log_text()}"
            time.sleep(0.2)


@pytest.fixture
def deployment(postgres_server: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A PostgreSQL schema for the compose file's database, and its master key secret
    (`onceonly keys init`, as the compose file's header says to make it)."""
    key_file = tmp_path / "secrets" / "master-keys.json"
    key_file.parent.mkdir()
    with fresh_schema(postgres_server) as url:
        made = subprocess.run([*ONCEONLY, "keys", "init", "--db", url], cwd=tmp_path,
                              env={**os.environ, "ONCEONLY_MASTER_KEY_FILE": str(key_file)},
                              capture_output=True, text=True, timeout=300)
        assert made.returncode == 0, made.stdout + made.stderr
        yield url, key_file


def test_the_compose_services_commands_bring_an_exchange_up_ready(deployment, tmp_path):
    url, key_file = deployment
    migrated = run("migrate", env_of("migrate", url, key_file), tmp_path)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr

    ports = {8000: free_port()}
    server = started("exchange-1", ports, env_of("exchange-1", url, key_file),
                     tmp_path / "exchange-1.log")
    try:
        base = f"http://127.0.0.1:{ports[8000]}"
        unready = until_answers(server, f"{base}/readyz")
        assert unready.status_code == 503 and unready.json()["code"] == \
            "exchange_not_initialised"
        assert health_check("exchange-1", ports).returncode != 0
        assert httpx.get(f"{base}/livez").status_code == 200  # unready, not dead

        init_env = env_of("init", url, key_file)
        first = run("init", init_env, tmp_path)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "token shown once" in first.stdout
        assert httpx.get(f"{base}/readyz").json() == {"status": "ok"}
        checked = health_check("exchange-1", ports)
        assert checked.returncode == 0, checked.stderr

        again = run("init", init_env, tmp_path)  # the next `compose up`
        assert again.returncode == 0, again.stdout + again.stderr
        assert "already initialised; nothing done" in again.stdout
        assert "token" not in again.stdout
        other = run("init", {**init_env, "ONCEONLY_OPERATOR_ORG": "GOV/OTHER"}, tmp_path)
        assert other.returncode == 2 and "ONCEONLY_OPERATOR_ORG" in other.stderr
        assert httpx.get(f"{base}/readyz").status_code == 200
    finally:
        stop(server)


def test_the_worker_runs_with_the_compose_files_command_and_its_health_check_passes(
        deployment, tmp_path):
    url, key_file = deployment
    for step in ("migrate", "init"):
        done = run(step, env_of(step, url, key_file), tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
    ports = {9100: free_port()}
    worker = started("worker", ports, env_of("worker", url, key_file),
                     tmp_path / "worker.log")
    try:
        figures = until_answers(worker, f"http://127.0.0.1:{ports[9100]}/metrics")
        assert figures.status_code == 200
        checked = health_check("worker", ports)
        assert checked.returncode == 0, checked.stderr
    finally:
        stop(worker)
    assert worker.process.returncode == 0, worker.log_text()
