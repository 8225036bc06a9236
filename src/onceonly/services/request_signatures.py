"""Organisation-to-organisation authentication: HTTP Message Signatures (RFC 9421).

An organisation signs each request with its Ed25519 key (`alg="ed25519"`, `keyid` the JWK
thumbprint of the key), covering the method, the target URI and, when there is a body, its
RFC 9530 Content-Digest, with signed `created` and `nonce` parameters. The exchange checks
the signature against the organisation's public key, refuses it when stale (created too
long ago, or too far in the future) or replayed (its nonce seen before, in a store every
server process shares), and otherwise knows which organisation sent the request.

Signature bases, structured fields, digests and Ed25519 are the maintained library
`http-message-signatures` (over `cryptography` and `http-sf`); nothing here parses a field
by hand. What is decided here: which components must be covered, the time window, the
replay rule, and the reason code of each refusal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
)
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from onceonly.audit.entries import AuditEntry
from onceonly.crypto.http_signatures import ALG, COVERED
from onceonly.domain.errors import DomainError, unauthenticated
from onceonly.services.ports.audit import AuditUnitOfWork
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.request_signatures import (
    KEY_RETIRED,
    NONCE_NEW,
    NonceStore,
    VerificationKeys,
)
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import refuse

WINDOW = timedelta(seconds=300)  # how old a signature may be
FUTURE = timedelta(seconds=60)  # how far ahead of our clock its `created` may be
MAX_NONCE = 128
REQUIRED_PARAMETERS = ("created", "nonce", "keyid", "alg")
SIGNATURE_HEADERS = (b"signature-input", b"signature")

_DETAIL = {
    "signature_invalid": "the request signature does not verify",
    "signature_stale": "the request signature is too old or dated in the future",
    "signature_replayed": "this signed request has been seen before",
    "signature_required": "requests must be signed (RFC 9421 HTTP Message Signatures)",
    "signature_org_mismatch": "the token belongs to another organisation than the signature",
}


@dataclass(frozen=True)
class SignedMessage:
    """A request as the library reads it: method, absolute URL, header lines in order."""

    method: str
    url: str
    headers: _Lines


class _Lines:
    """Header lines, in wire order, with `items()` (repeated names kept) and `[]=`/`del`."""

    def __init__(self, lines: Iterable[tuple[str, str]] = ()) -> None:
        self._lines = list(lines)

    def items(self) -> list[tuple[str, str]]:
        return list(self._lines)

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, _ in self._lines])

    def __contains__(self, name: object) -> bool:
        return any(n.lower() == str(name).lower() for n, _ in self._lines)

    def __getitem__(self, name: str) -> str:
        values = [v for n, v in self._lines if n.lower() == name.lower()]
        if not values:
            raise KeyError(name)
        return ", ".join(values)

    def __setitem__(self, name: str, value: str) -> None:
        self._lines.append((name, value))

    def __delitem__(self, name: str) -> None:
        self._lines = [(n, v) for n, v in self._lines if n.lower() != name.lower()]


def message(method: str, url: str, headers: Iterable[tuple[str, str]]) -> SignedMessage:
    return SignedMessage(method.upper(), url, _Lines(headers))


@dataclass(frozen=True)
class SignedBy:
    org_id: str
    kid: str
    nonce: str
    created: datetime


class _Keys(HTTPSignatureKeyResolver):
    def __init__(self, keys: VerificationKeys,
                 decoded: dict[str, tuple[str, Ed25519PublicKey]]) -> None:
        self.keys = keys
        self.decoded = decoded  # kid -> its organisation and key, decoded once per process
        self.found: dict[str, str] = {}

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey:
        known = self.decoded.get(key_id)
        if known is not None:
            self.found[key_id] = known[0]
            return known[1]
        found = self.keys.public_key(key_id)
        if found is None:
            raise InvalidSignature(f"unknown keyid {key_id[:64]!r}")
        org_id, jwk = found
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise InvalidSignature("the key is not an Ed25519 key")
        try:
            public = OKPKey.import_key(jwk).public_key
        except (JoseError, ValueError, TypeError) as bad:
            raise InvalidSignature("the key is not an Ed25519 key") from bad
        self.found[key_id] = org_id
        self.decoded[key_id] = (org_id, public)
        return public

    def resolve_private_key(self, key_id: str) -> Any:
        raise NotImplementedError


class _Verifier(HTTPMessageVerifier):
    """The library's verifier, with the time rules left to `RequestVerifier` (our clock)."""

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        return None


@dataclass
class RequestVerifier:
    """Verify a signed request: signature, freshness, then the nonce (in that order, so a
    forged or stale request never spends a nonce)."""

    keys: VerificationKeys
    nonces: NonceStore
    clock: Clock
    window: timedelta = WINDOW
    future: timedelta = FUTURE
    # A kid's key never changes; whether it is still active is checked with its nonce.
    _decoded: dict[str, tuple[str, Ed25519PublicKey]] = field(default_factory=dict)

    def check(self, msg: SignedMessage, body: bytes) -> SignedBy:
        """The organisation that signed `msg`, or a DomainError (401) with the reason."""
        resolver = _Keys(self.keys, self._decoded)
        verifier = _Verifier(signature_algorithm=ALG, key_resolver=resolver)
        try:
            results = verifier.verify(msg, max_age=None, require_components=COVERED,
                                      body=body)
        except (InvalidSignature, HTTPMessageSignaturesException, ValueError) as e:
            raise _refusal("signature_invalid", str(e)) from None
        if len(results) != 1:
            raise _refusal("signature_invalid", "exactly one signature is expected")
        params = results[0].parameters
        missing = [p for p in REQUIRED_PARAMETERS if p not in params]
        if missing:
            raise _refusal("signature_invalid",
                           f"the signature must carry {', '.join(missing)}")
        kid, nonce = str(params["keyid"]), str(params["nonce"])
        if not nonce or len(nonce) > MAX_NONCE or not nonce.isascii():
            raise _refusal("signature_invalid", f"the nonce must be 1-{MAX_NONCE} characters")
        created = datetime.fromtimestamp(int(params["created"]), UTC)
        now = self.clock.now()
        expires = params.get("expires")
        expired = expires is not None and datetime.fromtimestamp(int(expires), UTC) < now
        if expired or created < now - self.window or created > now + self.future:
            raise _refusal("signature_stale",
                           f"created must be within {int(self.window.total_seconds())} s "
                           "of the exchange's clock")
        recorded = self.nonces.remember(kid, nonce, created + self.window + self.future, now)
        if recorded == KEY_RETIRED:
            raise _refusal("signature_invalid", "the key is retired")
        if recorded != NONCE_NEW:
            raise _refusal("signature_replayed")
        return SignedBy(resolver.found[kid], kid, nonce, created)

    def verify(self, uows: UnitOfWorkFactory[AuditUnitOfWork], msg: SignedMessage,
               body: bytes) -> SignedBy:
        """`check`, auditing a refusal before raising it."""
        try:
            return self.check(msg, body)
        except DomainError as error:
            refuse_signature(uows, self.clock, error.code, None,
                             {"method": msg.method, "path": _path(msg.url)}, error)


def refuse_signature(uows: UnitOfWorkFactory[AuditUnitOfWork], clock: Clock, code: str,
                     org_id: str | None,
                     detail: Mapping[str, Any], error: DomainError | None = None, *,
                     actor_id: str | None = None) -> NoReturn:
    """Audit the refusal of a request for its signature (or the lack of one), and raise."""
    refuse(uows, clock, AuditEntry("auth.signature", "deny", actor_id, org_id, reason=code,
                                   detail=dict(detail)),
           error or _refusal(code))


def _refusal(code: str, why: str | None = None) -> DomainError:
    detail = _DETAIL[code] + (f": {why}" if why else "")
    return unauthenticated(code, detail)


def _path(url: str) -> str:
    from urllib.parse import urlsplit
    return urlsplit(url).path[:200]


@dataclass(frozen=True)
class SignaturePolicy:
    """Whose requests must be signed: everyone's, or those of the organisations named."""

    everyone: bool = False
    orgs: frozenset[str] = frozenset()

    @classmethod
    def of(cls, setting: bool | frozenset[str]) -> SignaturePolicy:
        if isinstance(setting, bool):
            return cls(everyone=setting)
        return cls(orgs=frozenset(setting))

    @property
    def active(self) -> bool:
        return self.everyone or bool(self.orgs)

    def requires(self, org_id: str) -> bool:
        return self.everyone or org_id in self.orgs


def check_caller(uows: UnitOfWorkFactory[AuditUnitOfWork], clock: Clock, policy: SignaturePolicy,
                 signed: SignedBy | None, org_id: str, actor_id: str) -> None:
    """After the bearer token is known: the signing organisation must be the token's, and
    an organisation whose requests must be signed must have signed this one."""
    if signed is None:
        if policy.requires(org_id):
            refuse_signature(uows, clock, "signature_required", org_id, {}, actor_id=actor_id)
        return
    if signed.org_id != org_id:
        refuse_signature(uows, clock, "signature_org_mismatch", org_id,
                         {"signed_by": signed.org_id, "kid": signed.kid}, actor_id=actor_id)
