"""The bearer token read from an Authorization value as FastAPI's HTTPBearer reads it."""

from __future__ import annotations

import asyncio

from fastapi.security import HTTPBearer
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from onceonly.entrypoints.api.caller import bearer_of

FASTAPI_BEARER = HTTPBearer(auto_error=False)


def _fastapi(authorization: str | None) -> str | None:
    headers = [] if authorization is None else [(b"authorization",
                                                   authorization.encode("latin-1"))]
    found = asyncio.run(FASTAPI_BEARER(Request({"type": "http", "headers": headers})))
    return found.credentials if found else None


VALUES = [None, "", "Bearer", "Bearer ", "Bearer  ", "Bearer abc", "bearer abc", "BEARER abc",
          "Bearer  abc ", "Basic eDp5", " Bearer abc", "Bearer a b", "Bearerabc", "Bearer\tabc"]


def test_each_value_gives_what_fastapi_gives() -> None:
    for value in VALUES:
        assert bearer_of(value) == _fastapi(value), value


@given(st.one_of(st.none(), st.text(st.characters(min_codepoint=32, max_codepoint=255)),
                 st.builds(lambda s, t: s + t, st.sampled_from(["Bearer ", "bearer  ", "x "]),
                           st.text(st.characters(min_codepoint=32, max_codepoint=255)))))
def test_any_value_gives_what_fastapi_gives(value: str | None) -> None:
    assert bearer_of(value) == _fastapi(value)
