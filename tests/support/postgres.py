"""Finds the PostgreSQL server the suite runs against, or starts a throwaway one.

Order: ONCEONLY_TEST_POSTGRES_URL; the server on 127.0.0.1:5432 (database test, user
postgres); a cluster made with initdb/pg_ctl in a temporary folder. If none is possible the
suite fails with a message saying what to start: PostgreSQL tests never skip.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import sqlalchemy

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HOW_TO_GET_ONE = (
    "PostgreSQL is needed for the test suite and none could be reached or started.\n"
    "Either start one on 127.0.0.1:5432 with database 'test' and user 'postgres' (trust auth),\n"
    "e.g. on Debian: apt-get install postgresql && pg_ctlcluster 15 main start,\n"
    "or point ONCEONLY_TEST_POSTGRES_URL at one: "
    "postgresql+psycopg://USER@HOST:PORT/DATABASE,\n"
    "or install initdb/pg_ctl (Debian: postgresql) so the suite can start its own."
)


class NoPostgres(RuntimeError):
    pass


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                             connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Throwaway:
    url: str
    folder: Path
    pg_ctl: str
    user: str | None

    def stop(self) -> None:
        _run([self.pg_ctl, "-D", str(self.folder / "data"), "-m", "immediate", "stop"],
             self.user)
        shutil.rmtree(self.folder, ignore_errors=True)


def _run(cmd: list[str], user: str | None) -> None:
    if user:  # initdb refuses to run as root
        cmd = ["runuser", "-u", user, "--", *cmd]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def _start_throwaway(find_bin: Callable[[str], str | None] = _bin) -> Throwaway:
    initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise NoPostgres(HOW_TO_GET_ONE)
    user = None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres").pw_name
        except KeyError as exc:
            raise NoPostgres(HOW_TO_GET_ONE + "\n(running as root needs a 'postgres' user)") \
                from exc
    folder = Path(tempfile.mkdtemp(prefix="onceonly-pg-"))
    if user:
        shutil.chown(folder, user)
    port = free_port()
    try:
        _run([initdb, "-D", str(folder / "data"), "-U", "postgres", "-A", "trust"], user)
        _run([pg_ctl, "-D", str(folder / "data"), "-l", str(folder / "log"), "-w",
              "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start"], user)
        admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE test")
    except (subprocess.SubprocessError, psycopg.Error) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise NoPostgres(f"{HOW_TO_GET_ONE}\n(starting a throwaway cluster failed: {exc})") \
            from exc
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"
    deadline = time.monotonic() + 30
    while not _answers(url):
        if time.monotonic() > deadline:
            raise NoPostgres(f"{HOW_TO_GET_ONE}\n(the throwaway cluster did not answer)")
        time.sleep(0.2)
    return Throwaway(url, folder, pg_ctl, user)


def find_postgres() -> tuple[str, Throwaway | None]:
    explicit = os.environ.get("ONCEONLY_TEST_POSTGRES_URL")
    if explicit:
        if not _answers(explicit):
            raise NoPostgres(f"ONCEONLY_TEST_POSTGRES_URL={explicit} does not answer.\n"
                             + HOW_TO_GET_ONE)
        return explicit, None
    if _answers(DEFAULT_URL):
        return DEFAULT_URL, None
    throwaway = _start_throwaway()
    return throwaway.url, throwaway


@contextmanager
def fresh_schema(server_url: str) -> Iterator[str]:
    """A schema of its own on the server, as a database URL whose search_path names it.
    Dropped afterwards with every schema named after it (the provider stores)."""
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(server_url)
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{server_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            rows = conn.execute(sqlalchemy.text(
                "SELECT nspname FROM pg_namespace WHERE nspname = :s OR nspname LIKE :p"
            ), {"s": schema, "p": f"{schema}\\_%"})
            for (name,) in rows.fetchall():
                conn.execute(sqlalchemy.text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()
