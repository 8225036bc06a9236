"""An RFC 3161 timestamping authority over HTTP (RFC 3161 §3.4): POST the query, read the
reply. Nothing here judges the reply: the use case checks it."""

from __future__ import annotations

import httpx

from onceonly.services.ports.timestamps import AuthorityUnavailable

QUERY = "application/timestamp-query"
REPLY = "application/timestamp-reply"


class HttpTimestampAuthority:
    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout
        self._client = httpx.Client(timeout=timeout)

    @property
    def name(self) -> str:
        return self.url

    def stamp(self, query: bytes) -> bytes:
        try:
            answer = self._client.post(self.url, content=query,
                                       headers={"Content-Type": QUERY, "Accept": REPLY})
        except httpx.HTTPError as exc:
            raise AuthorityUnavailable(f"{self.url} did not answer: {exc}") from exc
        if answer.status_code != 200:
            raise AuthorityUnavailable(f"{self.url} answered HTTP {answer.status_code}")
        return answer.content

    def close(self) -> None:
        self._client.close()
