"""A witness over HTTP (C2SP tlog-witness): `add-checkpoint` under its submission prefix,
and the latest checkpoint it cosigned under its monitoring prefix."""

from __future__ import annotations

import httpx

from onceonly.audit.checkpoints import MalformedCheckpoint, parse_size
from onceonly.crypto.cosignatures import Witness
from onceonly.services.ports.witnesses import (
    WitnessConflict,
    WitnessRefusedHead,
    WitnessUnavailable,
)

SIZE = "text/x.tlog.size"


class HttpWitness:
    def __init__(self, witness: Witness, prefix: str, *, timeout: float = 5.0) -> None:
        self.witness = witness
        self.prefix = prefix.rstrip("/")
        self._client = httpx.Client(timeout=timeout)

    def _call(self, method: str, path: str, **options: object) -> httpx.Response:
        try:
            answer = self._client.request(method, f"{self.prefix}{path}", **options)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise WitnessUnavailable(f"{self.witness.name} at {self.prefix} did not answer: "
                                     f"{exc}") from exc
        if answer.status_code >= 500:
            raise WitnessUnavailable(f"{self.witness.name} answered HTTP {answer.status_code}")
        return answer

    def add_checkpoint(self, body: bytes) -> str:
        answer = self._call("POST", "/add-checkpoint", content=body)
        if answer.status_code == 200:
            return answer.text
        if answer.status_code == 409 and answer.headers.get("content-type", "").startswith(SIZE):
            try:
                size = parse_size(answer.text)
            except MalformedCheckpoint as exc:
                raise WitnessUnavailable(f"{self.witness.name}'s 409 names no size: "
                                         f"{exc}") from exc
            raise WitnessConflict(size, f"{self.witness.name} cosigned {size} entries last")
        raise WitnessRefusedHead(f"{self.witness.name} refused the checkpoint: HTTP "
                                 f"{answer.status_code} {answer.text[:500]}")

    def checkpoint(self, origin: str) -> str | None:
        answer = self._call("GET", "/checkpoint", params={"origin": origin})
        if answer.status_code == 404:
            return None
        if answer.status_code != 200:
            raise WitnessUnavailable(f"{self.witness.name} answered HTTP "
                                     f"{answer.status_code} {answer.text[:200]}")
        return answer.text

    def close(self) -> None:
        self._client.close()
