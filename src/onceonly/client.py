"""A small typed client for the exchange: queries, agreements, and signature checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from onceonly.crypto.canonical import canonical_json
from onceonly.crypto.signing import verify_detached

SIGNATURE_HEADER = "Onceonly-Signature"


class ExchangeError(Exception):
    """A refusal from the exchange, with its status, reason code and detail."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class VerifiedRelease:
    release_id: str
    agreement_id: int
    subject: dict[str, str]
    data: dict[str, Any]
    released_at: str
    signed_by: str  # kid of the provider key that signed it


class OnceonlyClient:
    def __init__(self, base_url: str = "http://127.0.0.1:8000", token: str | None = None, *,
                 http: httpx.Client | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = http or httpx.Client(base_url=base_url, timeout=30)
        self.headers = headers
        self._jwks: dict[str, Any] | None = None

    def with_token(self, token: str) -> OnceonlyClient:
        """The same connection, acting as someone else."""
        other = OnceonlyClient(token=token, http=self.http)
        other._jwks = self._jwks
        return other

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, headers=self.headers, **kwargs)
        if response.status_code >= 400:
            try:
                problem = response.json()
                raise ExchangeError(response.status_code, problem["code"], problem["detail"])
            except (ValueError, KeyError):
                raise ExchangeError(response.status_code, "http_error", response.text) from None
        return response

    def jwks(self, refresh: bool = False) -> dict[str, Any]:
        if self._jwks is None or refresh:
            self._jwks = self._call("GET", "/.well-known/jwks.json").json()
        return self._jwks

    def catalogue(self) -> dict[str, Any]:
        return self._call("GET", "/v1/catalogue").json()

    def query(self, agreement_id: int, scheme: str, value: str, fields: list[str],
              purpose: str) -> VerifiedRelease:
        """Ask for fields of one person; the answer is returned only if its signature holds."""
        response = self._call("POST", "/v1/queries", json={
            "agreement_id": agreement_id,
            "subject": {"scheme": scheme, "value": value},
            "fields": fields,
            "purpose": purpose,
        })
        body = response.json()
        signature = response.headers.get(SIGNATURE_HEADER, "")
        kid = verify_detached(signature, canonical_json(body), self.jwks())
        return VerifiedRelease(body["release_id"], body["agreement_id"], body["subject"],
                               body["data"], body["released_at"], kid)

    def agreement(self, agreement_id: int) -> dict[str, Any]:
        return self._call("GET", f"/v1/agreements/{agreement_id}").json()

    def agreements(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/agreements").json()

    def create_agreement(self, body: dict[str, Any]) -> dict[str, Any]:
        """Draft an agreement; `body` as the API takes it (dates as ISO 8601 strings)."""
        return self._call("POST", "/v1/agreements", json=body).json()

    def transition(self, agreement_id: int, action: str, reason: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/agreements/{agreement_id}/{action}",
                          json={"reason": reason}).json()

    def close(self) -> None:
        self.http.close()
