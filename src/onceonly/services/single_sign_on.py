"""Single sign-on: staff sign in through their organisation's OpenID provider (the
authorization code flow with PKCE), each organisation registering its provider and how its
claims map to its people. The sign-in's state, nonce and PKCE verifier are kept server-side
under a digest of a random id the browser holds in a cookie, and are good once; the ID token
is verified by the OpenID client (ports/single_sign_on.py), and the claims judged by the
domain's rules (domain/single_sign_on.py). Every refusal is audited and signs nobody in."""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn

from onceonly.audit.entries import AuditEntry
from onceonly.crypto.tokens import token_digest
from onceonly.domain.errors import DomainError, forbidden, not_found, unauthenticated
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.single_sign_on import (
    IDENTITY_CLAIM,
    CitizenLink,
    IdentityProvider,
    ProvenIdentity,
    StaffClaims,
    citizen_link,
    identity_from_claim,
    other_organisation,
    staff_from_claims,
)
from onceonly.services.accounts import AccountService, SignedIn
from onceonly.services.auth import require_role
from onceonly.services.identity import IdentityService
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.single_sign_on import (
    Attempt,
    Client,
    OneLogin,
    OpenIdClient,
    SingleSignOnUnitOfWork,
    Verified,
)
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import denial, refuse, refuse_as

ATTEMPT_LIFETIME = timedelta(minutes=10)  # to sign in at the provider and come back


@dataclass(frozen=True, slots=True)
class Started:
    """A sign-in sent to a provider: the id for the browser's cookie, and where to go."""

    attempt_id: str
    url: str


def client_of(provider: IdentityProvider) -> Client:
    return Client(provider.issuer, provider.client_id, provider.client_auth, provider.secret,
                  provider.scopes)


class SingleSignOnService:
    def __init__(self, uows: UnitOfWorkFactory[SingleSignOnUnitOfWork], clock: Clock,
                 openid: OpenIdClient, accounts: AccountService, identity: IdentityService,
                 one_login: OneLogin | None, operator_org: str) -> None:
        self.uows = uows
        self.clock = clock
        self.openid = openid
        self.accounts = accounts
        self.identity = identity
        self.one_login = one_login  # None: citizens cannot sign in through One Login
        self.operator_org = operator_org

    # -- registering a provider -------------------------------------------------------------

    def register(self, actor: Principal, provider: IdentityProvider) -> IdentityProvider:
        """Set the organisation's provider: its own administrator, or the exchange's."""
        action = "identity_provider.set"
        require_role(self.uows, self.clock, actor, {Role.ORG_ADMIN, Role.ADMIN}, action)
        if actor.role is Role.ORG_ADMIN and actor.org_id != provider.org_id:
            refuse_as(self.uows, self.clock, action, actor, forbidden(
                "not_own_organisation", "an organisation's administrator registers its own "
                                        "provider only"), provider_id=provider.org_id)
        with self.uows() as uow:
            known = uow.catalogue.organisation(provider.org_id) is not None
        if not known:
            refuse_as(self.uows, self.clock, action, actor, not_found(
                "organisation_unknown", f"no organisation {provider.org_id}"),
                provider_id=provider.org_id)
        now = self.clock.now()
        with self.uows(write=True) as uow:
            uow.identity_providers.put(provider, actor.id, now)
            uow.audit.record(AuditEntry(action, "done", actor.id, actor.org_id,
                                        provider_id=provider.org_id, detail={
                                            "issuer": provider.issuer,
                                            "client_id": provider.client_id,
                                            "client_auth": provider.client_auth.value,
                                            "roles": {v: r.value for v, r
                                                      in provider.roles.items()}}), now)
            uow.commit()
        return provider

    def providers(self) -> list[IdentityProvider]:
        """The organisations whose staff sign in through their provider (the sign-in page
        lists them)."""
        with self.uows() as uow:
            return uow.identity_providers.all()

    # -- signing in -------------------------------------------------------------------------

    def begin(self, org_id: str, redirect_uri: str) -> Started:
        """A sign-in at the organisation's provider: fresh state, nonce and PKCE verifier."""
        with self.uows() as uow:
            provider = uow.identity_providers.get(org_id)
        if provider is None:
            raise not_found("no_identity_provider",
                            f"{org_id} has not registered a sign-in service with this "
                            "exchange. Ask its administrator.")
        return self._begin(org_id, client_of(provider), redirect_uri, {})

    def _begin(self, org_id: str | None, client: Client, redirect_uri: str,
               extra: Mapping[str, str]) -> Started:
        now = self.clock.now()
        attempt = Attempt(org_id, secrets.token_urlsafe(32), secrets.token_urlsafe(32),
                          secrets.token_urlsafe(48), now + ATTEMPT_LIFETIME)
        url = self.openid.authorization_url(client, redirect_uri, attempt, extra)
        attempt_id = secrets.token_urlsafe(32)
        with self.uows(write=True) as uow:
            uow.sign_in_attempts.add(token_digest(attempt_id), attempt, now)
            uow.commit()
        return Started(attempt_id, url)

    def take_attempt(self, attempt_id: str | None, params: Mapping[str, str]) -> Attempt:
        """The attempt the browser's cookie names, if the provider's answer is for it: the
        same `state`, and a code (not an error). Taken: a second answer finds nothing."""
        attempt = None
        if attempt_id:
            with self.uows(write=True) as uow:
                attempt = uow.sign_in_attempts.take(token_digest(attempt_id),
                                                    self.clock.now())
                uow.commit()
        if attempt is None:
            self._refuse(None, "sign_in_attempt_unknown",
                         "This sign-in was not started here, or took too long. Nobody was "
                         "signed in. Start again from the sign-in page.")
        if not hmac.compare_digest(params.get("state", ""), attempt.state):
            self._refuse(attempt.org_id, "state_mismatch",
                         "The sign-in service's answer did not match the sign-in started "
                         "here. Nobody was signed in. Start again from the sign-in page.")
        if "error" in params or not params.get("code"):
            self._refuse(attempt.org_id, "provider_refused",
                         "The sign-in service did not sign you in"
                         + (f" ({params['error_description']})"
                            if params.get("error_description") else "")
                         + ". Start again from the sign-in page.")
        return attempt

    def complete(self, attempt_id: str | None, params: Mapping[str, str],
                 redirect_uri: str) -> tuple[SignedIn, str]:
        """Someone back from their provider (staff from their organisation's, a citizen
        from One Login): the code exchanged, the ID token verified, the claims judged; a
        session (and the ID token, kept for signing out there too). `params`: the
        callback's query."""
        attempt = self.take_attempt(attempt_id, params)
        if attempt.org_id is None:
            return self._complete_citizen(attempt, params, redirect_uri)
        with self.uows() as uow:
            provider = uow.identity_providers.get(attempt.org_id)
        if provider is None:
            self._refuse(attempt.org_id, "no_identity_provider",
                         "Your organisation no longer signs in through this service.")
        verified = self._verified(provider.org_id, client_of(provider), redirect_uri,
                                  params, attempt)
        try:
            staff = staff_from_claims(provider, verified.claims)
        except DomainError as refused:
            self._refuse(provider.org_id, refused.code, refused.detail, refused)
        return self._sign_in_staff(provider, staff, verified), verified.id_token

    def _verified(self, org_id: str | None, client: Client, redirect_uri: str,
                  params: Mapping[str, str], attempt: Attempt) -> Verified:
        if params.get("iss", client.issuer) != client.issuer:
            # RFC 9207: an answer naming another issuer is another provider's (a mix-up).
            self._refuse(org_id, "issuer_mismatch",
                         "The answer came from another sign-in service than the one you "
                         "chose. Nobody was signed in. Start again from the sign-in page.")
        code = params["code"]
        try:
            return self.openid.complete(client, redirect_uri, code, attempt,
                                        self.clock.now())
        except DomainError as refused:
            self._refuse(org_id, refused.code, refused.detail, refused)

    def _sign_in_staff(self, provider: IdentityProvider, staff: StaffClaims,
                       verified: Verified) -> SignedIn:
        with self.uows() as uow:
            known = uow.provider_people.principal_of(provider.issuer, staff.person)
            principal = uow.principals.get(known) if known else None
            disabled = principal is not None and uow.provider_people.disabled(principal.id)
        if principal is not None and principal.org_id != provider.org_id:
            self._refuse(provider.org_id, "other_organisation",
                         other_organisation(provider.org_id).detail, actor=principal)
        if disabled:
            self._refuse(provider.org_id, "principal_disabled",
                         "Your access to this exchange has been turned off by your "
                         "organisation's administrator. Ask them if you think this is "
                         "wrong.", actor=principal)
        now = self.clock.now()
        with self.uows(write=True) as uow:
            if principal is None:
                principal = Principal(f"sso.{secrets.token_hex(8)}", staff.name,
                                      provider.org_id, staff.role)
                uow.principals.add(principal, created_by=f"sso:{provider.org_id}")
                uow.provider_people.link(provider.issuer, staff.person, principal.id, now)
            else:  # the provider says who they are now: a changed group changes the role
                uow.provider_people.update_staff(principal.id, staff.name, staff.role.value)
                principal = Principal(principal.id, staff.name, principal.org_id, staff.role)
            signed_in = self.accounts.start_session(uow, principal, "sso",
                                                    verified.expires_at)
            uow.provider_sessions.add(token_digest(signed_in.session_id), provider.org_id,
                                      verified.id_token, signed_in.expires_at)
            uow.commit()
        return signed_in

    def _refuse(self, org_id: str | None, code: str, detail: str,
                error: DomainError | None = None, actor: Principal | None = None) -> NoReturn:
        """Audit the refusal (who was refused, if known; the organisation; why), then raise:
        nobody is signed in."""
        entry = denial("signin.sso", actor, code, provider_id=org_id)
        if actor is None and org_id is not None:
            entry = AuditEntry(entry.action, entry.outcome, None, org_id, reason=code,
                               provider_id=org_id)
        refuse(self.uows, self.clock, entry, error or unauthenticated(code, detail))

    # -- citizens, through GOV.UK One Login -------------------------------------------------

    def begin_citizen(self, redirect_uri: str) -> Started:
        """A citizen's sign-in at One Login, asking for the confidence its `vtr` names and
        for the identity claim."""
        if self.one_login is None:
            raise not_found("one_login_not_configured",
                            "Signing in with GOV.UK One Login is not set up on this exchange.")
        return self._begin(None, self.one_login.client, redirect_uri, {
            "vtr": self.one_login.vtr,
            "claims": json.dumps({"userinfo": {IDENTITY_CLAIM: None}})})

    def _complete_citizen(self, attempt: Attempt, params: Mapping[str, str],
                          redirect_uri: str) -> tuple[SignedIn, str]:
        one_login = self.one_login
        if one_login is None:
            self._refuse(None, "one_login_not_configured",
                         "Signing in with GOV.UK One Login is not set up on this exchange.")
        client = one_login.client
        verified = self._verified(None, client, redirect_uri, params, attempt)
        subject = verified.claims["sub"]  # pairwise: this exchange's own name for them
        try:
            info = self.openid.userinfo(client, verified.access_token)
            if info.get("sub") != subject:
                raise unauthenticated("userinfo_subject", "GOV.UK One Login described "
                                                          "someone else. Nobody was signed in.")
            token = info.get(IDENTITY_CLAIM)
            if not isinstance(token, str):
                raise forbidden("identity_missing",
                                "GOV.UK One Login did not prove your identity, so your record "
                                "could not be found. Nobody was signed in.")
            proven = identity_from_claim(self.openid.identity_claim(
                token, one_login.identity_issuer, client.client_id, subject,
                self.clock.now()))
        except DomainError as refused:
            self._refuse(None, refused.code, refused.detail, refused)
        with self.uows() as uow:
            known = uow.provider_people.principal_of(client.issuer, subject)
            principal = uow.principals.get(known) if known else None
        if principal is None:
            principal = self._link_citizen(client.issuer, subject, proven)
        with self.uows(write=True) as uow:
            signed_in = self.accounts.start_session(uow, principal, "one_login",
                                                    verified.expires_at)
            uow.provider_sessions.add(token_digest(signed_in.session_id), None,
                                      verified.id_token, signed_in.expires_at)
            uow.commit()
        return signed_in, verified.id_token

    def _link_citizen(self, issuer: str, subject: str, proven: ProvenIdentity) -> Principal:
        """The first sign-in: the person of the index One Login's proof names, through the
        matcher; linked at once when it is sure, else queued for staff to confirm."""
        matches = self.identity.match_person(proven.full_name, proven.birth_date)
        outcome, person_key = citizen_link([(m.person_key, m.comparisons) for m in matches])
        now = self.clock.now()
        if outcome is CitizenLink.UNKNOWN or person_key is None:
            self._refuse(None, "identity_not_found",
                         "GOV.UK One Login proved who you are, but no record of yours was "
                         "found here. Nobody was signed in. If you think you should have a "
                         "record, contact the service that holds it.")
        if outcome is CitizenLink.QUEUED:
            compared = dict(matches[0].comparisons)
            with self.uows(write=True) as uow:
                earlier = uow.provider_people.queue(issuer, subject, person_key, compared, now)
                uow.commit()
            if earlier == "rejected":
                self._refuse(None, "identity_rejected",
                             "GOV.UK One Login proved who you are, but a member of staff "
                             "could not confirm that the record found here is yours, so you "
                             "have not been signed in. Contact the service that holds your "
                             "record to have it checked.")
            self._refuse(None, "identity_pending",
                         "GOV.UK One Login proved who you are, and a member of staff now "
                         "needs to confirm which record is yours. This usually takes up to "
                         "5 working days. You have not been signed in yet: sign in with "
                         "GOV.UK One Login again after that.")
        return self._citizen_linked(issuer, subject, person_key, "one_login", None)

    def waiting_citizens(self, actor: Principal) -> list[tuple[str, str, str, dict[str, str]]]:
        """Citizens One Login proved whose record waits to be confirmed (the exchange's
        administrators)."""
        require_role(self.uows, self.clock, actor, {Role.ADMIN}, "identity.waiting")
        with self.uows() as uow:
            return uow.provider_people.waiting()

    def decide_citizen(self, actor: Principal, issuer: str, person: str, *,
                       confirm: bool) -> str:
        """Confirm (link them to the person the matcher found: their next sign-in goes
        through) or reject a waiting citizen; the person key decided on."""
        action = "identity.confirm" if confirm else "identity.reject"
        require_role(self.uows, self.clock, actor, {Role.ADMIN}, action)
        with self.uows(write=True) as uow:
            person_key = uow.provider_people.decide(issuer, person,
                                                    "confirmed" if confirm else "rejected")
            uow.commit()
        if person_key is None:
            refuse_as(self.uows, self.clock, action, actor, not_found(
                "not_waiting", "no citizen of that issuer and subject waits to be confirmed"))
        if confirm:
            self._citizen_linked(issuer, person, person_key, "confirmed", actor)
        else:
            with self.uows(write=True) as uow:
                uow.audit.record(AuditEntry(action, "done", actor.id, actor.org_id,
                                            person_key=person_key), self.clock.now())
                uow.commit()
        return person_key

    def _citizen_linked(self, issuer: str, subject: str, person_key: str, by: str,
                        actor: Principal | None) -> Principal:
        now = self.clock.now()
        with self.uows(write=True) as uow:
            existing = uow.provider_people.citizen_of(person_key)
            principal = uow.principals.get(existing) if existing else None
            if principal is None:
                principal = Principal(f"citizen.{secrets.token_hex(6)}", "Citizen",
                                      self.operator_org, Role.CITIZEN, person_key)
                uow.principals.add(principal)
            uow.provider_people.link(issuer, subject, principal.id, now)
            who = actor or principal
            uow.audit.record(AuditEntry("identity.link", "applied", who.id, who.org_id,
                                        person_key=person_key, detail={"by": by}), now)
            uow.commit()
        return principal

    # -- signing out ------------------------------------------------------------------------

    def sign_out(self, session_id: str, post_logout_redirect_uri: str) -> str | None:
        """End the exchange's session; where to sign out at the provider too, if the
        session was started through one that offers it."""
        with self.uows(write=True) as uow:
            started = uow.provider_sessions.take(token_digest(session_id))
            uow.commit()
        self.accounts.sign_out(session_id)
        if started is None:
            return None
        org_id, id_token = started
        client = self._client_for(org_id)
        if client is None:
            return None
        return self.openid.end_session_url(client, id_token, post_logout_redirect_uri)

    def _client_for(self, org_id: str | None) -> Client | None:
        if org_id is None:
            return self.one_login.client if self.one_login else None
        with self.uows() as uow:
            provider = uow.identity_providers.get(org_id)
        return client_of(provider) if provider else None

