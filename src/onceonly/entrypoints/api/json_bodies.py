"""JSON request bodies read strictly: an object that names a key twice is refused
(`duplicate_key`), where the json module would let the last one silently win, so that what
the server acts on is what every reader of the body would see."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class DuplicateKey(json.JSONDecodeError):
    """A JSON object naming one key twice: a decoding error, so FastAPI refuses the body as it
    refuses any malformed one (after the caller's token is checked)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the key {key!r} appears twice in one object", "", 0)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        raise DuplicateKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return found


def loads_strictly(body: bytes) -> Any:
    """The JSON value of `body`, refusing an object that names a key twice (DuplicateKey)."""
    return json.loads(body, object_pairs_hook=_unique_keys)


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads_strictly(await self.body())
        return self._json


class JsonRoute(APIRoute):
    """An API route whose JSON body is read by StrictJsonRequest (the route class of every
    API router)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strictly(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strictly
