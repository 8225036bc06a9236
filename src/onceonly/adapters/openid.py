"""The OpenID Connect client: authlib (its requests session) for the authorization code
flow with PKCE and the client's authentication at the token endpoint (private_key_jwt or a
client secret), and for the ID token's claims (issuer, audience, expiry, nonce); joserfc
for its signature, by a key the provider publishes (its JWKS), in an asymmetric algorithm
only."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import ECKey, JWKRegistry, KeySet
from joserfc.jwt import JWTClaimsRegistry

from onceonly.domain.errors import DomainError, ErrorKind, unauthenticated
from onceonly.domain.single_sign_on import ClientAuth
from onceonly.services.ports.single_sign_on import Attempt, Client, Verified

# Asymmetric only: `none` carries no signature, and an HMAC "signed" with what the client
# knows (its secret, or a public key taken for one) proves nothing of the provider.
ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
METADATA_FOR = 300.0  # seconds a provider's metadata and keys are kept before asked again
LEEWAY = 30  # seconds of clock difference allowed on exp, iat
TIMEOUT = 10.0

_CLAIM_WORDS = {
    "iss": ("id_token_issuer", "it was issued by another service than the one you chose"),
    "aud": ("id_token_audience", "it was meant for another service than this exchange"),
    "nonce": ("id_token_nonce", "it answers another sign-in than this one"),
    "exp": ("id_token_expired", "it has expired"),
}


def refused(code: str, why: str) -> DomainError:
    return unauthenticated(code, f"Your sign-in could not be trusted: {why}. Nobody was "
                                 "signed in. Try signing in again.")


def unavailable(issuer: str) -> DomainError:
    return DomainError(ErrorKind.UPSTREAM, "provider_unavailable",
                       f"The sign-in service at {issuer} did not answer. Try again later.")


class AuthlibOpenIdClient:
    """`read_secret`: reads a client secret or private key from its reference."""

    def __init__(self, read_secret: Callable[[str], str],
                 identity_key: Path | None = None) -> None:
        self.read_secret = read_secret
        self.identity_key = identity_key  # the identity claim issuer's public key (JWK, PEM)
        self._metadata: dict[str, tuple[float, dict[str, Any]]] = {}
        self._keys: dict[str, tuple[float, KeySet]] = {}

    # -- the provider's metadata and keys ---------------------------------------------------

    def _get(self, issuer: str, url: str) -> Any:
        try:
            answer = httpx.get(url, timeout=TIMEOUT)
            answer.raise_for_status()
            return answer.json()
        except (httpx.HTTPError, ValueError):
            raise unavailable(issuer) from None

    def metadata(self, issuer: str) -> dict[str, Any]:
        kept = self._metadata.get(issuer)
        if kept is not None and time.monotonic() - kept[0] < METADATA_FOR:
            return kept[1]
        found = self._get(issuer, issuer.rstrip("/") + "/.well-known/openid-configuration")
        if not isinstance(found, dict) or found.get("issuer") != issuer:
            # OpenID Connect Discovery 4.3: the metadata must name the issuer asked of it.
            raise refused("metadata_issuer", "the sign-in service named another issuer")
        self._metadata[issuer] = (time.monotonic(), found)
        return found

    def key_set(self, issuer: str, *, fresh: bool = False) -> KeySet:
        kept = self._keys.get(issuer)
        if not fresh and kept is not None and time.monotonic() - kept[0] < METADATA_FOR:
            return kept[1]
        try:
            keys = KeySet.import_key_set(self._get(issuer, self.metadata(issuer)["jwks_uri"]))
        except (JoseError, KeyError, TypeError, ValueError):
            raise refused("provider_keys", "the sign-in service's keys could not be read") \
                from None
        self._keys[issuer] = (time.monotonic(), keys)
        return keys

    # -- the flow ---------------------------------------------------------------------------

    def _session(self, client: Client, redirect_uri: str) -> OAuth2Session:
        secret = self.read_secret(client.secret)
        session = OAuth2Session(client.client_id, secret,
                                token_endpoint_auth_method=client.client_auth.value,
                                redirect_uri=redirect_uri, scope=" ".join(client.scopes),
                                code_challenge_method="S256")
        if client.client_auth is ClientAuth.PRIVATE_KEY_JWT:
            session.register_client_auth_method(
                PrivateKeyJWT(self.metadata(client.issuer)["token_endpoint"]))
        return session

    def authorization_url(self, client: Client, redirect_uri: str, attempt: Attempt,
                          extra: Mapping[str, str]) -> str:
        endpoint = self.metadata(client.issuer)["authorization_endpoint"]
        with self._session(client, redirect_uri) as session:
            url, _ = session.create_authorization_url(
                endpoint, state=attempt.state, nonce=attempt.nonce,
                code_verifier=attempt.code_verifier, **extra)
        return str(url)

    def complete(self, client: Client, redirect_uri: str, code: str, attempt: Attempt,
                 now: datetime) -> Verified:
        endpoint = self.metadata(client.issuer)["token_endpoint"]
        try:
            with self._session(client, redirect_uri) as session:
                token = session.fetch_token(endpoint, grant_type="authorization_code",
                                            code=code, code_verifier=attempt.code_verifier,
                                            timeout=TIMEOUT)
        except OAuthError:
            raise refused("code_rejected", "the sign-in service did not accept this "
                                           "sign-in (it may have been used already)") from None
        except requests.RequestException:
            raise unavailable(client.issuer) from None
        id_token, access_token = token.get("id_token"), token.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise refused("id_token_missing", "the sign-in service sent no ID token")
        claims = self.verify_id_token(client, id_token, attempt.nonce, access_token, now)
        return Verified(claims, id_token, access_token,
                        datetime.fromtimestamp(claims["exp"], UTC))

    def verify_id_token(self, client: Client, id_token: str, nonce: str, access_token: str,
                        now: datetime) -> dict[str, Any]:
        offered = self.metadata(client.issuer).get("id_token_signing_alg_values_supported")
        algorithms = [a for a in ALGORITHMS if offered is None or a in offered]
        try:
            try:
                token = jwt.decode(id_token, self.key_set(client.issuer), algorithms)
            except InvalidKeyIdError:  # a key new since the keys were read: read them again
                token = jwt.decode(id_token, self.key_set(client.issuer, fresh=True),
                                   algorithms)
        except UnsupportedAlgorithmError:
            raise refused("id_token_algorithm", "it was not signed in a way this exchange "
                                                "accepts") from None
        except (BadSignatureError, InvalidKeyIdError):
            raise refused("id_token_signature", "it was not signed by a key the sign-in "
                                                "service publishes") from None
        except JoseError:
            raise refused("id_token_malformed", "it could not be read") from None
        claims = CodeIDToken(
            token.claims, token.header,
            {"iss": {"essential": True, "value": client.issuer},
             "aud": {"essential": True, "value": client.client_id},
             "nonce": {"essential": True}},
            {"nonce": nonce, "client_id": client.client_id, "access_token": access_token})
        try:
            claims.validate(now=int(now.timestamp()), leeway=LEEWAY)
        except ExpiredTokenError:
            raise refused(*_CLAIM_WORDS["exp"]) from None
        except ClaimError as error:
            name = getattr(error, "claim", "")
            code, why = _CLAIM_WORDS.get(name, ("id_token_claims", f"its {name} claim is "
                                                                   "not right"))
            if isinstance(error, MissingClaimError) and name not in _CLAIM_WORDS:
                why = f"it has no {name} claim"
            raise refused(code, why) from None
        return dict(claims)

    def userinfo(self, client: Client, access_token: str) -> Mapping[str, Any]:
        endpoint = self.metadata(client.issuer).get("userinfo_endpoint")
        if not endpoint:
            raise refused("no_userinfo", "the sign-in service offers no user information")
        try:
            answer = httpx.get(endpoint, timeout=TIMEOUT,
                               headers={"Authorization": f"Bearer {access_token}"})
            answer.raise_for_status()
            info = answer.json()
        except (httpx.HTTPError, ValueError):
            raise unavailable(client.issuer) from None
        if not isinstance(info, dict):
            raise refused("userinfo_malformed", "the user information could not be read")
        return info

    def identity_claim(self, token: str, issuer: str, client_id: str, subject: str,
                       now: datetime) -> Mapping[str, Any]:
        if self.identity_key is None:
            raise refused("identity_key_missing", "this exchange has no key to check GOV.UK "
                                                  "One Login's proof of identity with")
        text = self.identity_key.read_text()
        key = (JWKRegistry.import_key(json.loads(text)) if text.lstrip().startswith("{")
               else ECKey.import_key(text))
        try:
            decoded = jwt.decode(token, key, ["ES256"])
            JWTClaimsRegistry(now=int(now.timestamp()), leeway=LEEWAY,
                              iss={"essential": True, "value": issuer},
                              aud={"essential": True, "value": client_id},
                              sub={"essential": True, "value": subject},
                              exp={"essential": True}).validate(decoded.claims)
        except UnsupportedAlgorithmError:
            raise refused("identity_algorithm", "its proof of identity was not signed in a "
                                                "way this exchange accepts") from None
        except (BadSignatureError, InvalidKeyIdError):
            raise refused("identity_signature", "its proof of identity was not signed by "
                                                "GOV.UK One Login") from None
        except ClaimError:
            raise refused("identity_claims", "its proof of identity is not for you, or not "
                                             "for this exchange, or has expired") from None
        except JoseError:
            raise refused("identity_malformed", "its proof of identity could not be read") \
                from None
        return decoded.claims

    def end_session_url(self, client: Client, id_token: str,
                        post_logout_redirect_uri: str) -> str | None:
        try:
            endpoint = self.metadata(client.issuer).get("end_session_endpoint")
        except DomainError:
            return None  # the exchange's own session is ended whether or not it answers
        if not endpoint:
            return None
        query = urlencode({"id_token_hint": id_token, "client_id": client.client_id,
                           "post_logout_redirect_uri": post_logout_redirect_uri})
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
