"""JSON request bodies read strictly: an object that names a key twice is refused
(`duplicate_key`), where the json module would let the last one silently win, so that what
the server acts on is what every reader of the body would see."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
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
    """The JSON value of `body`, refusing an object that names a key twice (DuplicateKey).

    Read first by orjson, several times faster, and its value kept only where it must be the
    json module's: every member of an object is a key and a colon, so where the body holds
    no more colons than the value holds keys, no key was dropped for a later one. Anything
    else (a colon in a string, a key twice, 19 digits in a row, which orjson would read as a
    float past 64 bits; what orjson refuses: NaN, infinities, a lone surrogate, nesting past
    1,024, another encoding) is read by the json module, whose value or error is the answer
    (tests/unit/api/test_json_bodies.py holds the two to the same values)."""
    if _LONG_NUMBER.search(body) is not None:
        return _json_loads(body)
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _json_loads(body)
    if body.count(b":") == _keys_in(value):
        return value
    return _json_loads(body)


_LONG_NUMBER = re.compile(rb"[0-9]{19}")


def _json_loads(body: bytes) -> Any:
    return json.loads(body, object_pairs_hook=_unique_keys)


def _keys_in(value: Any) -> int:
    """The keys of every object in `value` (without recursion: orjson reads 1,024 deep)."""
    keys, waiting = 0, [value]
    while waiting:
        item = waiting.pop()
        if isinstance(item, dict):
            keys += len(item)
            waiting.extend(item.values())
        elif isinstance(item, list):
            waiting.extend(item)
    return keys


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
