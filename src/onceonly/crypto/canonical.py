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


def _bmp(text: str) -> bool:
    """Every character within the Basic Multilingual Plane (and so no surrogate pairs in
    UTF-16, where RFC 8785 compares keys)."""
    return text.isascii() or max(text) <= "\uffff"


def orjson_exact(value: Any) -> bool:
    """Whether orjson's sorted, compact output of `value` is its RFC 8785 form."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -SAFE_INTEGER <= value <= SAFE_INTEGER
    if kind is dict:
        return all(type(key) is str and _bmp(key) and orjson_exact(item)
                   for key, item in value.items())
    if kind is list or kind is tuple:
        return all(orjson_exact(item) for item in value)
    return False


def canonical_json(value: Any) -> bytes:
    if orjson_exact(value):
        try:
            return orjson.dumps(value, option=_SORTED)
        except orjson.JSONEncodeError:  # a lone surrogate, say: rfc8785 gives the verdict
            pass
    return rfc8785.dumps(value)


def sha256_hex(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()
