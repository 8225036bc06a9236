"""Benchmarks: `uv run python -m benchmarks [policy|http|scale] [--quick]` (see __main__.py).

Shared helpers: what machine a figure was measured on, and where raw outputs go.
"""

from __future__ import annotations

import os
import platform
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

RESULTS = Path(__file__).resolve().parent / "results"  # gitignored


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_total() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            kib = int(meminfo.readline().split()[1])
        return f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def machine_header(title: str) -> str:
    """The lines every benchmark prints first: what ran, where, with which command."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return "\n".join([
        f"== {title}",
        f"when       {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC",
        f"machine    {os.cpu_count()} CPUs, {cpu_model()}, {memory_total()} RAM, "
        f"load average {load} (shared machine: figures are noisy)",
        f"python     {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.system()} {platform.machine()}",
        f"command    {shlex.join([Path(sys.executable).name, *sys.orig_argv[1:]])}",
    ])


def results_dir() -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    return RESULTS


class Report:
    """Print lines, and keep them in benchmarks/results/<name>-<time>.txt as the raw output."""

    def __init__(self, name: str) -> None:
        self.path = results_dir() / f"{name}-{datetime.now(UTC):%Y%m%d-%H%M%S}.txt"
        self._file = self.path.open("w", encoding="utf-8")

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self._file.write(line + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()
        print(f"(raw output: {self.path})", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server_process(command: Callable[[int], list[str]], log: Path) -> Iterator[tuple[str, int]]:
    """Start a server (`command(port)`) on a free loopback port; yield its base URL and pid
    once /healthz answers; stop it afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as server_log:
        server = subprocess.Popen(command(port), stdout=server_log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with {server.returncode}; see {log}")
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer /healthz within 120 s")
            time.sleep(0.2)
        yield base, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
