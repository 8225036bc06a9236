"""The providers bench_connectors measures the exchange against, each in a process of its own
over its own SQLite store (HMRC's records from the demo world, laid out its own way: nested,
its own names), one indexed read and one JSON answer a request, `?fields=` honoured:

- lean: a small API as a provider would write one with aiohttp's web framework: a route, a
  JSON answer and an access log line a request (about 0.1 ms of CPU a request, near the
  issue's lean reference of about 0.15 ms; aiohttp's low-level server alone took 0.05-0.07);
- signing: the same, and it verifies the exchange's RFC 9421 signed request against the
  exchange's JWKS, as the demo's DVLA provider does (with the demo provider's own verifier,
  entrypoints/demo/provider_api.py): about 0.33 ms, heavier than the reference
  (BENCHMARKS.md 14).

The wrk load sent straight to the reference provider is signed as the exchange signs: one
signature a person, made beforehand with the exchange's own key (the demo provider accepts a
signature for a day and keeps no nonces, so each verifies in full every time).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks import server_process
from benchmarks.load import DATASET, LUA_COMMON

LUA_DIRECT = LUA_COMMON + """
function request()
  i = i + 1
  return wrk.format("GET", "/people/" .. ninos[(i %% #ninos) + 1] .. "?fields=income")
end
"""

# The same, each request carrying the exchange's signature for its URL.
LUA_DIRECT_SIGNED = LUA_COMMON + """
local signed = {%(signed)s}
function request()
  i = i + 1
  local s = signed[(i %% #signed) + 1]
  return wrk.format("GET", s[1], {["Signature-Input"] = s[2], ["Signature"] = s[3]})
end
"""


def provide(store: str, port: int, jwks: str | None = None,
            access_log: str | None = None) -> None:
    """Child process: HMRC's API over its own SQLite store, one indexed read a request.
    GET /people/{nino}[?fields=a,b]; GET /healthz. With `jwks`, a request whose signature does
    not verify against it is refused (401); with `access_log`, each request is logged."""
    import logging
    import sqlite3

    from aiohttp import web

    db = sqlite3.connect(store, check_same_thread=False)
    read = "SELECT record FROM people WHERE nino = ?"
    verify = _verifier(jwks) if jwks else None
    healthz = {"status": "ok", "pid": os.getpid()}

    async def identify(request: web.Request) -> web.Response:
        # names this process: another's server on the port is not it
        return web.json_response(healthz)

    async def person(request: web.Request) -> web.Response:
        if verify is not None and not verify(request):
            return web.json_response({"detail": "signature"}, status=401)
        row = db.execute(read, (request.match_info["nino"],)).fetchone()
        if row is None:
            return web.json_response({}, status=404)
        record = json.loads(row[0])
        fields = request.query.get("fields")
        if fields:
            wanted = set(fields.split(","))
            record = {k: v for k, v in record.items() if k in wanted or k == "id"}
        return web.json_response(record)

    logger = None
    if access_log:  # aiohttp's own access log, a line a request, to a file
        logger = logging.getLogger("provider.access")
        logger.setLevel(logging.INFO)
        logger.addHandler(logging.FileHandler(access_log))
        logger.propagate = False

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/healthz", identify)
        app.router.add_get("/people/{nino}", person)
        runner = web.AppRunner(app, access_log=logger)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()

    asyncio.run(main())


def _verifier(jwks: str) -> Any:
    """The demo provider's check of the exchange's signature (its verifier and its key
    resolver): whether `request` verifies."""
    from http_message_signatures import HTTPMessageVerifier, algorithms

    from onceonly.entrypoints.demo.provider_api import ExchangeKeys, _Message

    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519,
                                   key_resolver=ExchangeKeys(jwks))

    def verify(request: Any) -> bool:
        try:
            verifier.verify(_Message(request.method, str(request.url), request.headers))
        except Exception:  # any signature that does not verify, for any reason, is refused
            return False
        return True

    return verify


@contextmanager
def serve_provider(records: Path, log: Path, jwks: Path | None = None,
                   access_log: Path | None = None) -> Iterator[tuple[str, int]]:
    """A provider in a process of its own: its base URL and pid. On a machine shared with
    other servers a free port can be taken before the provider binds it, and the other
    server's /healthz answered instead: it is started again on another port then."""
    def command(port: int) -> list[str]:
        extra = ["--access-log", str(access_log)] if access_log else []
        extra += ["--jwks", str(jwks)] if jwks else []
        return [sys.executable, "-m", "benchmarks.bench_connectors", "--provide", str(records),
                "--port", str(port), *extra]
    for _ in range(5):
        with server_process(command, log) as (base, pid):
            if _answers_as(base, pid):
                yield base, pid
                return
    raise RuntimeError(f"the provider could not keep a port of its own; see {log}")


def _answers_as(base: str, pid: int) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=5).json().get("pid") == pid
    except (ValueError, AttributeError, httpx.HTTPError):
        return False


def provider_store(url: str, path: Path) -> None:
    """The provider's own SQLite store: HMRC's records as its API answers them."""
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE people (nino TEXT PRIMARY KEY, record TEXT NOT NULL)")
        db.executemany("INSERT INTO people VALUES (?, ?)",
                       [(k, json.dumps(v)) for k, v in hmrc_records(url).items()])


def hmrc_records(url: str) -> dict[str, dict[str, Any]]:
    """HMRC's records from the demo world's store, laid out as its API answers them."""
    from sqlalchemy import MetaData, select

    from onceonly.adapters.connectors.sql import store_table
    from onceonly.adapters.db import tables as t
    from onceonly.adapters.db.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        config = conn.execute(select(t.datasets.c.connector)
                              .where(t.datasets.c.id == DATASET)).scalar_one()
    engine.dispose()
    store = make_engine(config["url"])
    with store.connect() as conn:
        rows = conn.execute(select(store_table(MetaData(), config))).mappings().all()
    store.dispose()
    return {r["nino"]: {"id": r["nino"], "name": {"full": r["full_name"]},
                        "address": r["address"],
                        "income": {"annual": r["annual_income"], "taxCode": r["tax_code"]},
                        "childBenefit": r["child_benefit_claimant"]} for r in rows}


def exchange_keys(url: str, jwks_file: Path) -> Any:
    """The exchange operator's request-signing key (made if it has none yet), as the
    exchange's server will sign with it; its JWKS written where the provider reads it."""
    from datetime import UTC, datetime

    from onceonly.bootstrap import bootstrap
    from onceonly.config import operator_org

    exchange = bootstrap(url)
    try:
        try:
            key = exchange.key_store.request_key_for(operator_org())
        except LookupError:
            exchange.key_store.add_hosted_key(operator_org(), datetime.now(UTC))
            key = exchange.key_store.request_key_for(operator_org())
        jwks_file.write_text(json.dumps(exchange.key_store.jwks(operator_org())))
    finally:
        exchange.close()
    return key


def signed_requests(provider: str, ninos: list[str], key: Any) -> str:
    """The direct load's requests as a Lua table: each person's path with the exchange's
    Signature-Input and Signature for its URL (made as the HTTP connector makes them)."""
    from onceonly.adapters.connectors.http_requests import Message
    from onceonly.crypto.http_signatures import sign

    rows = []
    for nino in ninos:
        path = f"/people/{nino}?fields=income"
        message = Message("GET", provider + path, {})
        sign(message, key[0], key[1], None)
        rows.append("{" + ", ".join(json.dumps(v) for v in (
            path, message.headers["Signature-Input"], message.headers["Signature"])) + "}")
    return ", ".join(rows)
