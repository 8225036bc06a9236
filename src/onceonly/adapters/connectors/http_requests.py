"""The exchange's requests to a provider's API: their headers, and how the exchange
authenticates (an RFC 9421 signature by its own key, or a bearer secret read where the
config says, never stored)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from onceonly.adapters.connectors.http_answers import UNAVAILABLE, Refused
from onceonly.crypto.http_signatures import sign

SigningKey = Callable[[], tuple[Ed25519PrivateKey, str]]  # the exchange's key and its kid

_ACCEPT_JSON = {"Accept": "application/json"}


class Message:
    """A request as the RFC 9421 signer reads it: method, URL and headers."""

    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method, self.url, self.headers = method, url, headers


def headers_for(auth: Mapping[str, str], signing_key: SigningKey | None, method: str,
                url: str, body: bytes | None) -> dict[str, str]:
    """A request's headers: JSON accepted, a merge patch's type, and the exchange's
    credentials as `auth` says."""
    kind = auth.get("kind")
    if kind is None and body is None:
        return _ACCEPT_JSON  # aiohttp copies the headers it is given
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/merge-patch+json"
    if kind == "bearer":
        headers["Authorization"] = "Bearer " + _secret(auth)
    elif kind == "signature" and signing_key is not None:
        try:
            key, kid = signing_key()
        except LookupError:  # a fresh exchange: no signing key for its operator yet
            raise Refused(UNAVAILABLE, "the exchange has no key to sign its requests to "
                          "this provider with yet") from None
        sign(Message(method, url, headers), key, kid, body)
    return headers


def _secret(auth: Mapping[str, str]) -> str:
    """A bearer secret, read where the config says each time (rotated without a restart)."""
    if "env" in auth:
        value = os.environ.get(auth["env"])
        if not value:
            raise Refused(UNAVAILABLE, f"the bearer secret ${auth['env']} is not set")
        return value
    try:
        return Path(auth["file"]).read_text().strip()
    except OSError as error:
        raise Refused(UNAVAILABLE, f"the bearer secret's file cannot be read "
                      f"({error.strerror})") from None
