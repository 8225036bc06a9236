"""Real `onceonly serve` processes for tests: start one, wait for it, stop it and its workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.postgres import free_port

START_TIMEOUT = 120.0  # a loaded machine imports slowly


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start_server(db_url: str, log: Path, *extra: str, env: dict[str, str] | None = None
                 ) -> Server:
    """`onceonly serve` in a process (and session) of its own, with `env` added to this
    process's environment; returns once it is started."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "onceonly.entrypoints.cli", "serve", "--db", db_url,
             "--host", "127.0.0.1", "--port", str(port), *extra],
            stdout=out, stderr=subprocess.STDOUT, cwd=log.parent, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
    return Server(process, f"http://127.0.0.1:{port}", log)


def wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if server.process.poll() is not None:
            raise AssertionError(f"server exited with {server.process.returncode}:\n"
                                 f"{server.log_text()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=2).json().get("status") == "ok":
                return
        except (httpx.HTTPError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"server did not answer /healthz in {START_TIMEOUT}s:\n"
                                 f"{server.log_text()}")
        time.sleep(0.1)


def stop(server: Server) -> None:
    """End the server we started and any workers of its own: the signal goes to the process
    group it leads (its own session), sent while the leader is not yet reaped, so the
    group id cannot belong to anyone else."""
    if server.process.poll() is not None:
        return
    os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=15)
