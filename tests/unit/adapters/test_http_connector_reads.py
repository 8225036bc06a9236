"""The HTTP connector's read against a provider's API on this test's own loop: what it asks
for, once per set of fields, and what it refuses before asking."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web

from onceonly.adapters.connectors.http import HttpConnectors

FIELDS = {
    "full_name": {"type": "string", "jmespath": "name.full", "param": "name"},
    "annual_income": {"type": "integer", "pointer": "/income/annual", "param": "income"},
    "tax_code": {"type": "string", "jmespath": "income.taxCode", "param": "income"},
}
RECORD = {"id": "AB1", "name": {"full": "Ann Example"},
          "income": {"annual": 41000, "taxCode": "1257L"}}


async def _reads(asks: list[tuple[str, ...]]) -> tuple[list[Any], list[str]]:
    """Each set of fields read from a provider that records the URLs it is asked."""
    seen: list[str] = []

    async def handle(request: web.BaseRequest) -> web.Response:
        seen.append(request.path_qs)
        return web.Response(body=json.dumps(RECORD).encode(), content_type="application/json")

    runner = web.ServerRunner(web.Server(handle), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    connectors = HttpConnectors()
    connector = connectors.for_config({"kind": "http", "fields": FIELDS,
                                       "url": f"http://127.0.0.1:{port}/people/{{id}}",
                                       "fields_param": "fields"})
    answers: list[Any] = []
    try:
        for fields in asks:
            try:
                answers.append(await connector.fetch_async("AB1", fields))
            except KeyError as refused:
                answers.append(refused)
    finally:
        await connectors.pools.aclose()
        await runner.cleanup()
    return answers, seen


def test_each_provider_name_is_asked_for_once_and_the_fields_answer_in_order() -> None:
    answers, seen = asyncio.run(_reads([("tax_code", "annual_income"),
                                        ("tax_code", "annual_income"), ("full_name",)]))

    assert answers[:2] == [{"tax_code": "1257L", "annual_income": 41000}] * 2
    assert list(answers[0]) == ["tax_code", "annual_income"]
    assert answers[2] == {"full_name": "Ann Example"}
    assert seen == ["/people/AB1?fields=income"] * 2 + ["/people/AB1?fields=name"]


@pytest.mark.parametrize("asks", [[("nope",)], [("annual_income",), ("annual_income", "nope")],
                                  [("nope",), ("nope",)]])
def test_a_field_the_connector_does_not_map_is_refused_every_time_before_asking(
        asks: list[tuple[str, ...]]) -> None:
    answers, seen = asyncio.run(_reads(asks))

    refused = [a for a, fields in zip(answers, asks, strict=True) if "nope" in fields]
    assert refused and all(isinstance(a, KeyError) and "nope" in str(a) for a in refused)
    assert len(seen) == sum("nope" not in fields for fields in asks)
