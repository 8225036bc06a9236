"""JSON bodies read strictly (entrypoints/api/json_bodies.py): the fast read through orjson
gives exactly what the json module gives, value or error, for any body; a key twice is
refused either way."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onceonly.entrypoints.api.json_bodies import DuplicateKey, _unique_keys, loads_strictly


def _json_module(body: bytes) -> Any:
    return json.loads(body, object_pairs_hook=_unique_keys)


def _outcome(read: Any, body: bytes) -> tuple[str, Any]:
    try:
        value = read(body)
    except json.JSONDecodeError as error:
        return type(error).__name__, (error.msg, error.pos)
    except (ValueError, RecursionError) as error:
        return type(error).__name__, str(error)
    return "value", repr(value)  # repr: -0.0 and 0, 1 and 1.0, nan told apart


VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats()
    | st.text(max_size=6) | st.sampled_from(["a:b", "::", "\ud800", "é"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=4) | st.sampled_from(["k", "k:"]), inner, max_size=3),
    max_leaves=10)


@settings(max_examples=400)
@given(VALUES, st.sampled_from([(", ", ": "), (",", ":"), (" , ", " :\n")]))
def test_any_json_value_is_read_as_the_json_module_reads_it(value: Any,
                                                            separators: tuple[str, str]) -> None:
    body = json.dumps(value, separators=separators, ensure_ascii=False,
                      allow_nan=True).encode("utf-8", "surrogatepass")
    assert _outcome(loads_strictly, body) == _outcome(_json_module, body)


@settings(max_examples=400)
@given(st.binary(max_size=40) | st.text(alphabet='{}[]":,0123456789.eE-+ aknrtulfs\\',
                                        max_size=40).map(str.encode))
def test_any_bytes_are_read_as_the_json_module_reads_them(body: bytes) -> None:
    assert _outcome(loads_strictly, body) == _outcome(_json_module, body)


@pytest.mark.parametrize("body", [
    b'{"a": 1, "a": 2}', b'{"a":1,"b":{"c":1,"c":1}}', b'[{"x": 1, "x": 1}]',
    b'{"a": "1:2", "a": 2}'])
def test_a_key_twice_is_refused(body: bytes) -> None:
    with pytest.raises(DuplicateKey):
        loads_strictly(body)


@pytest.mark.parametrize("body", [
    b"123456789012345678901", b"-9223372036854775809", b"1e400", b"NaN",
    b'"\\ud800"', b"\xef\xbb\xbf{}", b"[" * 2000 + b"]" * 2000,
    '{"a": 1}'.encode("utf-16")])
def test_what_orjson_reads_otherwise_or_refuses_is_the_json_modules(body: bytes) -> None:
    assert _outcome(loads_strictly, body) == _outcome(_json_module, body)
