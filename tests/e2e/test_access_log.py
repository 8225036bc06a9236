"""The access line's caller: an API caller noted by caller.note_caller, or a portal page's
signed-in principal; no one when neither is known."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from onceonly.domain.organisations import Principal, Role
from onceonly.entrypoints.api.caller import note_caller
from onceonly.entrypoints.api.middleware import RequestIds
from onceonly.entrypoints.api.server import running
from tests.support.logs import captured_logs

CITIZEN = Principal("p1", "A Citizen", "CITIZENS", Role.CITIZEN, person_key="pk-1")
OFFICER = Principal("o1", "An Officer", "GOV/DWP", Role.OFFICER)


async def api(request: Request) -> PlainTextResponse:
    note_caller(request.state, OFFICER)
    return PlainTextResponse("ok")


async def page(request: Request) -> PlainTextResponse:
    request.state.web_principal = CITIZEN
    return PlainTextResponse("ok")


async def anonymous(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok", status_code=404)


def test_the_access_line_names_whoever_is_known() -> None:
    app = RequestIds(Starlette(routes=[Route("/api/{item}", api), Route("/page", page),
                                       Route("/open", anonymous)]))
    with running(app) as base, httpx.Client(base_url=base) as client, \
            captured_logs() as lines:
        for path in ("/api/QQ123456C", "/page", "/open"):
            assert client.get(path).status_code in (200, 404)
    seen = [(line["route"], line["status"], line["organisation"], line["role"])
            for line in lines if line["event"] == "request"]
    assert seen == [("/api/{item}", 200, "GOV/DWP", "officer"),
                    ("/page", 200, "CITIZENS", "citizen"),
                    ("/open", 404, None, None)]
    assert "QQ123456C" not in repr(lines) and "pk-1" not in repr(lines)
