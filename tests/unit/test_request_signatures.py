"""Signed requests (RFC 9421): the signature base the client signs, and the rules the
exchange applies to it — verified, tampered, stale, from the future, replayed."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from http_message_signatures import HTTPMessageSigner

from onceonly.adapters.clock import MovableClock
from onceonly.crypto.http_signatures import ALG, COVERED, _PrivateKey, sign
from onceonly.crypto.signing import SigningKey
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.services.ports.request_signatures import NONCE_NEW, NONCE_REPLAYED
from onceonly.services.request_signatures import (
    RequestVerifier,
    SignaturePolicy,
    SignedMessage,
    message,
)

DWP = SigningKey.generate("GOV/DWP")
URL = "https://exchange.example/v1/queries?x=1"
BODY = b'{"agreement_id":1}'


class Keys:
    def __init__(self, *keys: SigningKey) -> None:
        self.keys = {k.kid: k for k in keys}

    def public_key(self, kid: str) -> tuple[str, dict[str, Any]] | None:
        key = self.keys.get(kid)
        return None if key is None else (key.org_id, key.public_jwk())


class Nonces:
    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], datetime] = {}

    def remember(self, kid: str, nonce: str, expires_at: datetime, now: datetime) -> str:
        if self.seen.get((kid, nonce), now) > now:
            return NONCE_REPLAYED
        self.seen[(kid, nonce)] = expires_at
        return NONCE_NEW


def signed(method: str = "POST", body: bytes = BODY, *, url: str = URL,
           key: SigningKey = DWP, **kwargs: Any) -> httpx.Request:
    request = httpx.Request(method, url, content=body,
                            headers={"Content-Type": "application/json"})
    sign(request, key.key.private_key, key.kid, body, **kwargs)
    return request


def as_received(request: httpx.Request, **changes: Any) -> SignedMessage:
    return message(changes.get("method", request.method), changes.get("url", str(request.url)),
                   changes.get("headers", request.headers.multi_items()))


@pytest.fixture
def verifier() -> RequestVerifier:
    return RequestVerifier(Keys(DWP), Nonces(), MovableClock())


def refused(verifier: RequestVerifier, msg: SignedMessage, body: bytes) -> str:
    with pytest.raises(DomainError) as caught:
        verifier.check(msg, body)
    assert caught.value.kind is ErrorKind.UNAUTHENTICATED
    return caught.value.code


def test_the_signature_covers_method_uri_and_digest_with_created_nonce_keyid_alg() -> None:
    request = signed(nonce="n-1", created=datetime(2026, 1, 1, tzinfo=UTC))
    assert request.headers["Content-Digest"].startswith("sha-256=:")
    assert request.headers["Signature-Input"] == (
        'onceonly=("@method" "@target-uri" "content-digest");created=1767225600;'
        f'keyid="{DWP.kid}";alg="ed25519";nonce="n-1"')
    assert request.headers["Signature"].startswith("onceonly=:")
    # The same base, built by the library's signer, verifies with the public key.
    base = HTTPMessageSigner(signature_algorithm=ALG, key_resolver=_PrivateKey(
        DWP.key.private_key)).prepare(
        request, key_id=DWP.kid, created=datetime(2026, 1, 1, tzinfo=UTC), nonce="n-1",
        covered_component_ids=COVERED, body=BODY, use_existing_digest=True, label="onceonly")
    assert base.signature_base.decode().splitlines()[:2] == ['"@method": POST',
                                                              f'"@target-uri": {URL}']


def test_a_signed_request_names_its_organisation(verifier: RequestVerifier) -> None:
    request = signed()
    by = verifier.check(as_received(request), BODY)
    assert (by.org_id, by.kid) == ("GOV/DWP", DWP.kid)


def test_a_request_without_a_body_is_signed_without_a_digest(verifier: RequestVerifier) -> None:
    request = signed("GET", b"")
    assert "content-digest" not in request.headers
    assert verifier.check(as_received(request), b"").org_id == "GOV/DWP"


def test_a_replayed_request_is_refused(verifier: RequestVerifier) -> None:
    request = signed()
    verifier.check(as_received(request), BODY)
    assert refused(verifier, as_received(request), BODY) == "signature_replayed"


@pytest.mark.parametrize("change", ["body", "method", "path", "query", "digest_header"])
def test_a_tampered_request_is_refused(verifier: RequestVerifier, change: str) -> None:
    request = signed()
    body = BODY
    msg = as_received(request)
    if change == "body":
        body = b'{"agreement_id":2}'
    elif change == "method":
        msg = as_received(request, method="PUT")
    elif change in ("path", "query"):
        url = URL.replace("/v1/queries", "/v1/agreements") if change == "path" else URL + "2"
        msg = as_received(request, url=url)
    else:
        other = signed(body=b"{}")
        headers = [(n, other.headers["content-digest"] if n.lower() == "content-digest" else v)
                   for n, v in request.headers.multi_items()]
        msg, body = as_received(request, headers=headers), b"{}"
    assert refused(verifier, msg, body) == "signature_invalid"


def test_an_unknown_key_and_a_missing_nonce_are_refused(verifier: RequestVerifier) -> None:
    stranger = signed(key=SigningKey.generate("GOV/DWP"))
    assert refused(verifier, as_received(stranger), BODY) == "signature_invalid"
    request = httpx.Request("GET", URL)
    HTTPMessageSigner(signature_algorithm=ALG, key_resolver=_PrivateKey(
        DWP.key.private_key)).sign(request, key_id=DWP.kid, covered_component_ids=COVERED)
    assert refused(verifier, as_received(request), b"") == "signature_invalid"


def test_headers_that_are_not_structured_fields_are_refused(verifier: RequestVerifier) -> None:
    msg = message("GET", URL, [("Signature-Input", "((("), ("Signature", "x")])
    assert refused(verifier, msg, b"") == "signature_invalid"


def test_stale_and_future_signatures_are_refused_and_spend_no_nonce() -> None:
    clock = MovableClock()
    verifier = RequestVerifier(Keys(DWP), Nonces(), clock)
    now = clock.now()
    old = signed(created=now - timedelta(seconds=301), nonce="a")
    assert refused(verifier, as_received(old), BODY) == "signature_stale"
    ahead = signed(created=now + timedelta(seconds=90), nonce="b")
    assert refused(verifier, as_received(ahead), BODY) == "signature_stale"
    near = signed(created=now + timedelta(seconds=30), nonce="c")
    assert verifier.check(as_received(near), BODY).org_id == "GOV/DWP"
    clock.advance(timedelta(seconds=60))  # "b" is now 30 s ahead: fine, and unspent
    assert verifier.check(as_received(ahead), BODY).nonce == "b"


def test_who_must_sign() -> None:
    assert not SignaturePolicy.of(False).active
    assert SignaturePolicy.of(True).requires("COM/ACME")
    some = SignaturePolicy.of(frozenset({"GOV/DWP"}))
    assert some.requires("GOV/DWP") and not some.requires("GOV/HMRC")


def test_a_body_outside_the_signature_is_refused(verifier: RequestVerifier) -> None:
    request = signed("POST", b"")  # signed as if empty, sent with a body
    assert refused(verifier, as_received(request), BODY) == "signature_invalid"


def test_an_expired_signature_is_stale(verifier: RequestVerifier) -> None:
    request = httpx.Request("GET", URL)
    now = datetime.now(UTC)
    HTTPMessageSigner(signature_algorithm=ALG, key_resolver=_PrivateKey(
        DWP.key.private_key)).sign(request, key_id=DWP.kid, covered_component_ids=COVERED,
                                   created=now - timedelta(seconds=30), nonce="e",
                                   expires=now - timedelta(seconds=1))
    assert refused(verifier, as_received(request), b"") == "signature_stale"


def test_a_nonce_left_to_the_signer_is_24_random_bytes() -> None:
    """192 bits, URL-safe base64 without padding: 32 characters, new for each request."""
    nonces = set()
    for _ in range(2):
        params = signed().headers["Signature-Input"]
        nonce = params.split('nonce="')[1].split('"')[0]
        assert len(nonce) == 32 and len(base64.urlsafe_b64decode(nonce)) == 24
        nonces.add(nonce)
    assert len(nonces) == 2
