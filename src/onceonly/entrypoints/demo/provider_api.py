"""A demo provider's own HTTP API, run as a process of its own over the provider's own store:
`GET /people/{id}` answers the person's record (only the fields asked for with
`?fields=a,b`; 404 if there is none), `PATCH /people/{id}` merges a JSON merge patch
(RFC 7396) into it where the provider takes corrections, and `/openapi.json` describes both.

It authenticates the exchange its own way: by mutual TLS (uvicorn asks for a client
certificate from the provider's CA), or by an RFC 9421 signature verified against the
exchange's published JWKS (fetched when first needed, and again for a key it has not seen).

    python -m onceonly.entrypoints.demo.provider_api SETTINGS.json

SETTINGS: `store` (the store's SQL connector config), `title`, `port`, `corrections`
(true: PATCH served), and either `tls` (`cert_file`, `key_file`, `ca_file`: mutual TLS) or
`jwks_url` or `jwks_file` (signatures, verified against the exchange's JWKS), or neither.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import threading
import time
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, HTTPException, Query, Request, Response
from http_message_signatures import HTTPMessageVerifier, HTTPSignatureKeyResolver, algorithms
from joserfc.jwk import OKPKey
from pydantic import create_model
from sqlalchemy import MetaData, select

from onceonly.adapters.connectors.sql import store_table
from onceonly.adapters.db.engine import make_engine

_PYTHON_TYPES: dict[str, Any] = {"string": str, "integer": int, "boolean": bool,
                                 "date": date, "list": list}


class ExchangeKeys(HTTPSignatureKeyResolver):
    """The exchange's public keys from its JWKS (a URL, or a file the provider keeps), read
    again for a kid not yet seen."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._keys: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _document(self) -> Any:
        if self.source.startswith(("http://", "https://")):
            return httpx.get(self.source, timeout=10).raise_for_status().json()
        return json.loads(Path(self.source).read_text())

    def resolve_public_key(self, key_id: str) -> Any:
        with self._lock:
            if key_id not in self._keys:
                document = self._document()
                self._keys = {k["kid"]: OKPKey.import_key(k).public_key
                              for k in document["keys"] if k.get("crv") == "Ed25519"}
            return self._keys[key_id]

    def resolve_private_key(self, key_id: str) -> Any:
        raise NotImplementedError("a provider verifies; it never signs as the exchange")


class _Message:
    """A request as the RFC 9421 verifier reads it."""

    def __init__(self, method: str, url: str, headers: Mapping[str, str]) -> None:
        self.method, self.url, self.headers = method, url, dict(headers)


def provider_app(store: Mapping[str, Any], title: str, *, corrections: bool = False,
                 jwks: str | None = None) -> FastAPI:
    """The provider's API over its store (a SQL connector config: table, key, columns)."""
    engine = make_engine(str(store["url"]))
    table = store_table(MetaData(), store)
    key = table.c[store["key"]]
    columns: dict[str, str] = dict(store["columns"])
    person = create_model("Person", id=(str, ...),  # a field left out is not in the answer
                          **{name: (_PYTHON_TYPES[kind], None) for name, kind in columns.items()})
    keys = ExchangeKeys(jwks) if jwks else None
    app = FastAPI(title=title, version="1", docs_url=None, redoc_url=None)

    async def check_signature(request: Request) -> None:
        if keys is None:
            return
        verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519,
                                       key_resolver=keys)
        message = _Message(request.method, str(request.url), request.headers)
        try:
            results = verifier.verify(message)
            body = await request.body()
            if body:
                verifier.verify_body(message, results, body)
        except Exception:  # any signature that does not verify, for any reason, is refused
            raise HTTPException(401, "the request's signature does not verify") from None

    def read(local_id: str) -> dict[str, Any] | None:
        with engine.connect() as conn:
            row = conn.execute(select(table).where(key == local_id)).mappings().first()
        return dict(row) if row is not None else None

    @app.get("/people/{person_id}", response_model=person, response_model_exclude_unset=True)
    async def get_person(person_id: str, request: Request,
                         fields: str | None = Query(None, description="a,b: only these")
                         ) -> dict[str, Any]:
        await check_signature(request)
        record = read(person_id)
        if record is None:
            raise HTTPException(404, "no such person")
        wanted = set(fields.split(",")) if fields else set(columns)
        return {"id": person_id} | {name: record[name] for name in columns if name in wanted}

    if corrections:
        @app.patch("/people/{person_id}", status_code=204)
        async def patch_person(person_id: str, request: Request) -> Response:
            await check_signature(request)
            patch = json.loads(await request.body() or b"{}")
            if not isinstance(patch, dict) or not set(patch) <= set(columns):
                raise HTTPException(422, "only the record's own fields can be patched")
            changes = {name: date.fromisoformat(value) if columns[name] == "date"
                       and isinstance(value, str) else value for name, value in patch.items()}
            with engine.begin() as conn:
                done = conn.execute(table.update().where(key == person_id).values(**changes))
            if done.rowcount == 0:
                raise HTTPException(404, "no such person")
            return Response(status_code=204)

    return app


def _exit_with(parent: int) -> None:
    """End this API when the process that started it is gone (killed without cleaning up):
    a demo provider never outlives its demo."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def main(settings_file: str) -> None:
    settings = json.loads(Path(settings_file).read_text())
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    app = provider_app(settings["store"], settings["title"],
                       corrections=settings.get("corrections", False),
                       jwks=settings.get("jwks_url") or settings.get("jwks_file"))
    tls = settings.get("tls") or {}
    options: dict[str, Any] = {}
    if tls:  # mutual TLS: only a client with a certificate from the provider's CA gets in
        options = {"ssl_certfile": tls["cert_file"], "ssl_keyfile": tls["key_file"],
                   "ssl_ca_certs": tls["ca_file"], "ssl_cert_reqs": ssl.CERT_REQUIRED}
    uvicorn.run(app, host="127.0.0.1", port=int(settings["port"]), log_level="warning",
                access_log=False, **options)


if __name__ == "__main__":
    main(sys.argv[1])
