"""Run the API: on a real socket inside this process (the walkthrough, tests, benchmarks), or
as the server's worker processes (`onceonly serve`)."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from prometheus_client.multiprocess import mark_process_dead
from uvicorn.supervisors import Multiprocess

APP = "onceonly.entrypoints.api.app:app_from_env"
# A worker must answer the supervisor's health check within this; it cannot until it has
# imported everything, which takes seconds on a loaded machine (uvicorn's 5 s restarted
# workers there before they could start, for ever).
WORKER_HEALTHCHECK_SECONDS = 30
# The event loop and HTTP parser the server runs on, chosen for capacity (BENCHMARKS.md
# section 13): named, not left to uvicorn's "auto", which falls back to asyncio and h11
# without a word when they are missing. Both are dependencies of the package.
SERVER_LOOP = {"loop": "uvloop", "http": "httptools"}


@contextmanager
def running(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `app` on a free loopback port in a thread; yield its base URL."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            lifespan="off", proxy_headers=False)  # the app reads them
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="onceonly-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start on {host}:{port}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def serve(workers: int, **options: Any) -> None:
    """Serve the API in `workers` processes (uvicorn's settings in `options`). uvicorn's own
    lines go through the exchange's JSON logging (log_config None: it installs no
    formatter of its own)."""
    options = {"log_config": None, **SERVER_LOOP, **options}
    if workers == 1:
        uvicorn.run(APP, factory=True, **options)
        return
    config = uvicorn.Config(APP, factory=True, workers=workers,
                            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS, **options)
    # prometheus-client's multiprocess mode: each worker keeps its figures in files here, and
    # a scrape of /metrics, whichever worker answers it, reads them all. A fresh directory
    # for each start, so no figures of an earlier server are counted again.
    figures = tempfile.mkdtemp(prefix="onceonly-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = figures
    try:
        _Workers(config, sockets=[config.bind_socket()]).run()
    finally:
        shutil.rmtree(figures, ignore_errors=True)


class _Workers(Multiprocess):
    """uvicorn's supervisor, which also tells prometheus-client of each worker gone (died
    and replaced, or retired on SIGHUP), so that its live figures stop counting."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._known: set[int] = set()

    def keep_subprocess_alive(self) -> None:
        super().keep_subprocess_alive()
        running = {p.pid for p in self.processes if p.pid is not None}
        for pid in self._known - running:
            mark_process_dead(pid)
        self._known = running
