"""`onceonly serve` runs on uvloop and httptools, named rather than left to uvicorn's "auto"."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn

from onceonly.entrypoints.api import server


def test_serve_names_uvloop_and_httptools_and_both_are_installed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: ran.update(options))
    server.serve(1, host="127.0.0.1", port=8000)
    assert (ran["loop"], ran["http"]) == ("uvloop", "httptools")
    config = uvicorn.Config(server.APP, factory=True, **server.SERVER_LOOP)
    config.load()  # fails where either is missing
    assert config.http_protocol_class.__module__.endswith("httptools_impl")
