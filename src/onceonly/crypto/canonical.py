"""RFC 8785 (JSON Canonicalization Scheme): the bytes of anything hashed or signed.

orjson writes the same bytes as `rfc8785` for JSON made only of objects with string keys
of the Basic Multilingual Plane, arrays, strings, booleans, null and integers within
±2^53 (tests/unit/test_canonical.py holds the two to it over generated values), at a
fraction of the cost. Anything else (a float, a larger integer, a key beyond the BMP, whose
UTF-16 order differs from orjson's code-point order) goes to `rfc8785`, which decides."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import rfc8785

# The integers RFC 8785 writes as they are: I-JSON's exact range (RFC 7493 section 2.2).
SAFE_INTEGER = 2**53 - 1
_SORTED = orjson.OPT_SORT_KEYS


def _bmp_keys(value: dict[Any, Any]) -> bool:
    """String keys, all within the Basic Multilingual Plane: no surrogate pairs in UTF-16,
    where RFC 8785 compares keys, so its order is orjson's code-point order. (Joined and
    checked at once: join refuses a key that is not a string.)"""
    try:
        keys = "".join(value)
    except TypeError:
        return False
    return keys.isascii() or max(keys) <= "\uffff"


def orjson_exact(value: Any) -> bool:
    """Whether orjson's sorted, compact output of `value` is its RFC 8785 form. (A loop
    rather than one call a value: it runs on every leaf the audit log hashes.)"""
    kind = type(value)
    if kind is dict:
        if not _bmp_keys(value):
            return False
        items: Any = value.values()
    elif kind is list or kind is tuple:
        items = value
    else:
        items = (value,)
    for item in items:
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if not -SAFE_INTEGER <= item <= SAFE_INTEGER:
                return False
        elif kind is dict or kind is list or kind is tuple:
            if not orjson_exact(item):
                return False
        else:
            return False
    return True


def canonical_json(value: Any) -> bytes:
    if orjson_exact(value):
        try:
            return orjson.dumps(value, option=_SORTED)
        except orjson.JSONEncodeError:  # a lone surrogate, say: rfc8785 gives the verdict
            pass
    return rfc8785.dumps(value)


def exact_canonical_json(value: Any) -> bytes | None:
    """The RFC 8785 form of a value the caller has checked piece by piece to be
    `orjson_exact`; None where orjson refuses it (a lone surrogate in its text)."""
    try:
        return orjson.dumps(value, option=_SORTED)
    except orjson.JSONEncodeError:
        return None


def sha256_hex(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()
