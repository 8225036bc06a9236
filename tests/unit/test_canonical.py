"""RFC 8785 through orjson where it is byte-identical to `rfc8785`, and `rfc8785` elsewhere."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onceonly.crypto import canonical
from onceonly.crypto.canonical import SAFE_INTEGER, canonical_json, orjson_exact

# Any character, astral ones and lone surrogates included.
TEXT = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF,
                             blacklist_categories=()), max_size=12)
SCALARS = (st.none() | st.booleans() | TEXT
           | st.integers(min_value=-(2**60), max_value=2**60)
           | st.integers(min_value=-SAFE_INTEGER - 2, max_value=-SAFE_INTEGER + 2)
           | st.integers(min_value=SAFE_INTEGER - 2, max_value=SAFE_INTEGER + 2)
           | st.floats(allow_nan=False, allow_infinity=False))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5)
                      | st.tuples(inner, inner)
                      | st.dictionaries(TEXT, inner, max_size=5), max_leaves=25)
# Only what the fast path takes: BMP keys, safe integers, no floats.
PLAIN_TEXT = st.text(st.characters(max_codepoint=0xFFFF, blacklist_categories=("Cs",)),
                     max_size=12)
PLAIN = st.recursive(
    st.none() | st.booleans() | PLAIN_TEXT
    | st.integers(min_value=-SAFE_INTEGER, max_value=SAFE_INTEGER),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(PLAIN_TEXT, inner, max_size=5),
    max_leaves=25)


# What rfc8785 refuses with: IntegerDomainError, FloatDomainError, a surrogate's
# UnicodeEncodeError, ...
REFUSED = (rfc8785.CanonicalizationError, UnicodeError, TypeError, ValueError)


def reference(value):
    try:
        return rfc8785.dumps(value)
    except REFUSED as error:
        return type(error)


def ours(value):
    try:
        return canonical_json(value)
    except REFUSED as error:
        return type(error)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALUES)
def test_byte_identical_to_rfc8785_for_any_json_value(value):
    assert ours(value) == reference(value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PLAIN)
def test_the_fast_path_takes_plain_values_and_writes_rfc8785s_bytes(value):
    assert orjson_exact(value)
    assert canonical_json(value) == rfc8785.dumps(value)


@pytest.fixture
def calls_to_rfc8785(monkeypatch):
    """Each value canonical_json hands to rfc8785 (the real one still does the work)."""
    seen = []
    real = rfc8785.dumps

    def spy(value):
        seen.append(value)
        return real(value)

    monkeypatch.setattr(canonical.rfc8785, "dumps", spy)
    yield seen
    monkeypatch.undo()


@pytest.mark.parametrize("value", [
    {"a": 1.5},                              # a float
    [SAFE_INTEGER + 1],                      # beyond ±2^53
    {"n": -SAFE_INTEGER - 1},
    {"\U0001F600": 1, "\uE000": 2},          # UTF-16 order differs from code-point order
    {"s": "\ud800"},                         # a lone surrogate: orjson refuses it
    {1: "a"},                                # a key that is not a string
    {"b": b"bytes"},                         # not JSON at all
])
def test_everything_else_goes_to_rfc8785(value, calls_to_rfc8785):
    written = ours(value)
    assert calls_to_rfc8785 == [value]
    assert written == reference(value)


@pytest.mark.parametrize("value", [
    {"a": [1, True, None, "é\u2028\x1f"]}, ("a", -SAFE_INTEGER, SAFE_INTEGER), "", {},
    {"k": "\U0001F600 astral in a value is fine"},
])
def test_plain_values_never_reach_rfc8785(value, calls_to_rfc8785):
    written = canonical_json(value)
    assert calls_to_rfc8785 == []
    assert written == rfc8785.dumps(value)


def test_keys_are_ordered_by_utf16_code_units_as_rfc8785_says():
    # U+1F600 is a surrogate pair (D83D DE00) in UTF-16, so it sorts before U+E000 there,
    # though after it by code point (orjson's order): the reason astral keys fall back.
    assert canonical_json({"\uE000": 2, "\U0001F600": 1}) == \
        '{"\U0001F600":1,"\uE000":2}'.encode()
    assert not orjson_exact({"\U0001F600": 1})
    assert orjson_exact({"\uFFFF": 1})


@pytest.mark.parametrize(("value", "exact"), [
    (SAFE_INTEGER, True), (-SAFE_INTEGER, True), (SAFE_INTEGER + 1, False),
    (-SAFE_INTEGER - 1, False), (0.0, False), (True, True), (None, True), ("", True),
    ([1, [2.5]], False), ({"a": {"b": 2**60}}, False), ({"a": {"b": 2}}, True),
    ((1, 2), True), ({"k": set()}, False), ({1: "a"}, False), ({"a": {2: "b"}}, False),
])
def test_what_the_fast_path_takes(value, exact):
    assert orjson_exact(value) is exact
