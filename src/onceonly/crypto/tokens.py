"""API tokens: random, shown once, stored only as a SHA-256 digest.

A token has 256 bits of entropy, so a fast digest is enough (no password hashing needed):
nobody can guess one to test against a leaked digest.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "oo_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
