"""Signing in to the web pages: citizens with a password (argon2) and, if they enrolled, a
TOTP code; staff with the API token they already hold. Either way the result is a
server-side session: a random id for the cookie, only its digest stored, with an expiry,
ended by signing out. Failed citizen sign-ins are counted in the database, so a delay or
a lock holds on every server process; domain/sign_in.py says what is counted and when
sign-in closes. Tokens are not counted: 256 random bits cannot be guessed, and a valid
token is never refused for what others did from the same address."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, NoReturn, Protocol

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from onceonly.audit.entries import AuditEntry
from onceonly.crypto.tokens import token_digest
from onceonly.domain.errors import DomainError, conflict, forbidden, invalid, unauthenticated
from onceonly.domain.languages import check_language, language_at_sign_in
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.sign_in import (
    FORGET_FAILURES_AFTER,
    SESSION_LIFETIME,
    Count,
    Counters,
    check_login,
    check_password,
)
from onceonly.services.auth import identify, require_role
from onceonly.services.ports.accounts import AccountsUnitOfWork, CitizenAccount
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import denial, refuse

TOTP_ISSUER = "onceonly"
_SESSION_REFUSALS = {
    "missing": ("session_missing", "sign in first"),
    "unknown": ("session_unknown", "this session is not one the exchange started; sign in"),
    "expired": ("session_expired", "your session has expired; sign in again"),
    "revoked": ("session_ended", "this session was signed out; sign in again"),
    "token_gone": ("session_token_revoked",
                   "the API token this session was started with is no longer valid"),
    "disabled": ("principal_disabled", "your account has been disabled"),
    "member_suspended": ("member_suspended", "your organisation is suspended"),
    "member_deregistered": ("member_deregistered", "your organisation has left this exchange"),
}
# The codes signing in can refuse with, for pages that must have a sentence for each.
SESSION_REFUSAL_CODES = frozenset(code for code, _ in _SESSION_REFUSALS.values())


class Sealer(Protocol):
    """Envelope encryption (services/envelopes.py): TOTP secrets are stored sealed."""

    def encrypt(self, org_id: str, plaintext: bytes,
                context: Mapping[str, str]) -> dict[str, Any]: ...
    def decrypt(self, envelope: Any, context: Mapping[str, str]) -> bytes: ...


@dataclass(frozen=True, slots=True)
class SignedIn:
    session_id: str  # for the cookie; the exchange keeps only its digest
    principal: Principal
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str  # base32, to type into an authenticator app
    uri: str  # otpauth:// URI, for apps that take one


class AccountService:
    def __init__(self, uows: UnitOfWorkFactory[AccountsUnitOfWork], clock: Clock, sealer: Sealer,
                 operator_org: str, hasher: PasswordHasher | None = None,
                 passwords: Callable[[], bool] = lambda: True) -> None:
        self.uows = uows
        self.passwords = passwords  # whether citizens may sign in with a password (the demo)
        self.clock = clock
        self.sealer = sealer
        self.operator_org = operator_org
        self.hasher = hasher or PasswordHasher()  # argon2id, RFC 9106's second choice
        self._dummy_hash: str | None = None

    # -- accounts ---------------------------------------------------------------------------

    def open_account(self, login: str, password: str, *, person_key: str,
                     principal: Principal | None = None) -> CitizenAccount:
        """An account for the person `person_key`, bound to `principal` (a citizen principal
        for that person) or to a new one."""
        login, password = check_login(login), check_password(password)
        if principal is not None and (principal.role is not Role.CITIZEN
                                      or principal.person_key != person_key):
            raise invalid("principal_not_citizen",
                          "an account binds a citizen principal of the same person")
        password_hash = self.hasher.hash(password)  # slow by design: outside the transaction
        now = self.clock.now()
        with self.uows(write=True) as uow:
            if uow.accounts.get(login) is not None:
                raise conflict("login_taken", f"the login {login!r} is taken")
            if uow.accounts.by_person(person_key) is not None:
                raise conflict("account_exists", "this person already has an account")
            if principal is None:
                principal = Principal(f"citizen.{secrets.token_hex(6)}", "Citizen",
                                      self.operator_org, Role.CITIZEN, person_key)
                uow.principals.add(principal)
            account = CitizenAccount(login, person_key, principal.id, password_hash,
                                     None, None, None, now)
            uow.accounts.add(account)
            uow.audit.record(AuditEntry("account.open", "done", principal.id, principal.org_id,
                                        person_key=person_key), now)
            uow.commit()
        return account

    def account_of(self, citizen: Principal) -> CitizenAccount:
        require_role(self.uows, self.clock, citizen, {Role.CITIZEN}, "account.read")
        with self.uows() as uow:
            account = uow.accounts.by_principal(citizen.id)
        if account is None:
            raise invalid("no_account", "this citizen signs in with an API token, not an account")
        return account

    # -- the citizen's language -------------------------------------------------------------

    def choose_language(self, who: Principal, language: str) -> None:
        """Keeps the language a signed-in citizen switched the pages to (staff's choice stays
        with their browser alone)."""
        language = check_language(language)
        if who.role is not Role.CITIZEN or who.person_key is None:
            return
        with self.uows(write=True) as uow:
            uow.languages.keep(who.person_key, language, self.clock.now())
            uow.commit()

    def language_at_sign_in(self, who: Principal, chosen: str | None, page: str) -> str | None:
        """The language to show a citizen's pages in now they have signed in (None: as they
        are); a first sign-in keeps the page's language (domain/languages.py)."""
        if who.role is not Role.CITIZEN or who.person_key is None:
            return None
        with self.uows() as uow:
            decided = language_at_sign_in(chosen, uow.languages.of(who.person_key), page)
        if decided.keep is not None:
            with self.uows(write=True) as uow:
                uow.languages.keep(who.person_key, decided.keep, self.clock.now())
                uow.commit()
        return decided.show

    # -- signing in -------------------------------------------------------------------------

    def sign_in(self, login: str, password: str, code: str | None,
                client: str | None) -> SignedIn:
        """Password, then the TOTP code if the account has one; the counters decide what
        is refused unchecked and how a failure is answered (domain/sign_in.py: Gate)."""
        if not self.passwords():
            self._refuse_sign_in("password_sign_in_off", forbidden(
                "password_sign_in_off", "Citizens sign in here with GOV.UK One Login; "
                                        "passwords are for the demonstration only."), None)
        now = self.clock.now()
        login = login.strip().lower()
        code = code.strip() if code and code.strip() else None
        counters = Counters.of(login, client)
        with self.uows() as uow:
            gate = counters.gate(uow.throttle.counts(counters.keys), now)
            account = uow.accounts.get(login)
        unchecked = gate.password_refusal(now) if code is None else None
        if unchecked is not None:
            self._refuse_sign_in(unchecked.code, unchecked, login)
        failed = partial(self._failed, counters, login, while_closed=gate.password is not None)
        if not self._password_matches(account, password):
            failed(unauthenticated("sign_in_failed", "the login or password is not right"),
                   code_tried=False)
        assert account is not None
        method = "password"
        if account.totp is None:
            closed = gate.password_refusal(now)
            if closed is not None:  # the right password, and no second factor to pass with
                failed(closed, code_tried=False)
        else:
            if code is None:
                # The password was right: ask for the second factor, counting nothing yet.
                raise unauthenticated("code_required",
                                      "enter the 6-digit code from your authenticator app")
            closed = gate.code_refusal(now)
            if closed is not None:
                failed(closed, code_tried=True)
            step = self._totp_step(account.login, account.totp, code, now)
            fresh = False
            if step is not None:
                with self.uows(write=True) as uow:
                    fresh = uow.accounts.use_totp_step(login, step)
                    uow.commit()
            if not fresh:
                failed(unauthenticated("code_invalid",
                                       "that code is not right, or was used already"),
                       code_tried=True)
            method = "password+totp"
        rehashed = (self.hasher.hash(password)
                    if self.hasher.check_needs_rehash(account.password_hash) else None)
        with self.uows(write=True) as uow:
            if rehashed is not None:
                uow.accounts.update(login, password_hash=rehashed)
            uow.throttle.clear(counters.keys)
            principal = uow.accounts.principal(login)
            signed_in = self._start(uow, principal, None, method, now,
                                    past=gate.password_refusal(now))
            uow.commit()
        return signed_in

    def sign_in_with_token(self, token: str) -> SignedIn:
        """Staff sign in with the API token they hold; the session lasts while it does.
        A wrong token is refused and audited, not counted: slowing it down would protect
        nothing, and counting by address would shut out the address's other holders."""
        now = self.clock.now()
        with self.uows() as uow:
            found = identify(uow, token.strip(), now) if token.strip() else None
        if not isinstance(found, Principal):
            self._refuse_sign_in("token_invalid", unauthenticated(
                "token_invalid", "that token is not a live token of this exchange"), None)
        with self.uows(write=True) as uow:
            signed_in = self._start(uow, found, token_digest(token.strip()), "token", now)
            uow.commit()
        return signed_in

    def _start(self, uow: AccountsUnitOfWork, principal: Principal, from_token: str | None,
               method: str, now: datetime, past: DomainError | None = None,
               until: datetime | None = None) -> SignedIn:
        """A session; `past`: the delay or lock the second factor got past, if one did;
        `until`: no later than this (when the sign-in it rests on ends sooner)."""
        session_id = secrets.token_urlsafe(32)
        expires = min(now + SESSION_LIFETIME, until or now + SESSION_LIFETIME)
        uow.sessions.add(token_digest(session_id), principal.id, from_token, now, expires)
        uow.sessions.forget_ended(now - SESSION_LIFETIME)  # indexed: a small delete
        detail = {"method": method} | ({"past": past.code} if past is not None else {})
        uow.audit.record(AuditEntry("signin", "done", principal.id, principal.org_id,
                                    detail=detail), now)
        return SignedIn(session_id, principal, expires)

    def start_session(self, uow: AccountsUnitOfWork, principal: Principal, method: str,
                      until: datetime) -> SignedIn:
        """A session for someone an identity provider signed in, inside `uow` (committed by
        the caller with what else it writes), lasting no longer than that sign-in."""
        return self._start(uow, principal, None, method, self.clock.now(), until=until)

    def _password_matches(self, account: CitizenAccount | None, password: str) -> bool:
        if len(password) > 1024:
            return False
        try:
            if account is None:
                # The same work as for a real account: timing tells nothing of who exists.
                self.hasher.verify(self._dummy(), password)
                return False
            return self.hasher.verify(account.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    def _failed(self, counters: Counters, login: str, error: DomainError, *,
                code_tried: bool, while_closed: bool) -> NoReturn:
        """Count a failure (`code_tried`: a code after the right password, which counts on
        the second factor too) and refuse with `error`, audited under its code; but if a
        counter is closed after it, with that closing: said now, not on the next try. An
        attempt made `while_closed` (the password alone was closed: it brought a code) is
        answered with the password's closing whatever was wrong, so it tells nothing."""
        now = self.clock.now()
        after: dict[str, Count] = {}

        def count(uow: AccountsUnitOfWork) -> None:
            for throttle, key in counters.counted(code_tried=code_tried):
                delay = throttle.closed_for(
                    uow.throttle.fail(key, now, now - FORGET_FAILURES_AFTER))
                if delay is not None:
                    uow.throttle.close(key, now + delay)
            uow.throttle.forget(now - FORGET_FAILURES_AFTER)  # indexed: a small delete
            after.update(uow.throttle.counts(counters.keys))

        try:
            self._refuse_sign_in(error.code, error, login, also=count)
        except DomainError:
            gate = counters.gate(after, now)
            closed = (gate.code_refusal(now) or gate.password_refusal(now)
                      if code_tried and not while_closed else gate.password_refusal(now))
            if closed is not None:
                raise closed from None
            raise

    def _refuse_sign_in(self, code: str, error: DomainError, login: str | None,
                        also: Any = None) -> NoReturn:
        # A digest prefix of the login: enough to correlate attempts, not the login itself.
        detail = {"login_digest_prefix": token_digest(login)[:12]} if login else {}
        refuse(self.uows, self.clock, denial("signin", None, code, detail=detail), error,
               also=also)

    # -- sessions ---------------------------------------------------------------------------

    def session(self, session_id: str | None) -> Principal:
        """The principal of a live session; a forged, expired or signed-out one is refused."""
        now = self.clock.now()
        state = "missing"
        if session_id:
            with self.uows() as uow:
                found = uow.sessions.find(token_digest(session_id), now)
            if found.principal is not None:
                return found.principal
            state = found.state
        code, detail = _SESSION_REFUSALS[state]
        if state == "missing":
            raise unauthenticated(code, detail)  # someone not signed in: nothing to audit
        digest = {"session_digest_prefix": token_digest(session_id or "")[:12]}
        refuse(self.uows, self.clock, denial("session", None, code, detail=digest),
               unauthenticated(code, detail))

    def sign_out(self, session_id: str) -> None:
        now = self.clock.now()
        with self.uows(write=True) as uow:
            found = uow.sessions.find(token_digest(session_id), now)
            if uow.sessions.revoke(token_digest(session_id), now) and found.principal:
                uow.audit.record(AuditEntry("signout", "done", found.principal.id,
                                            found.principal.org_id), now)
            uow.commit()

    # -- two-step sign-in (TOTP, RFC 6238) --------------------------------------------------

    def begin_totp(self, citizen: Principal) -> TotpEnrolment:
        """A new secret, pending until a code from it is confirmed."""
        account = self.account_of(citizen)
        secret = pyotp.random_base32()
        sealed = self.sealer.encrypt(self.operator_org, secret.encode(),
                                     _totp_context(account.login, "pending"))
        with self.uows(write=True) as uow:
            uow.accounts.update(account.login, totp_pending=sealed)
            uow.commit()
        uri = pyotp.TOTP(secret).provisioning_uri(name=account.login, issuer_name=TOTP_ISSUER)
        return TotpEnrolment(secret, uri)

    def confirm_totp(self, citizen: Principal, code: str) -> None:
        account = self.account_of(citizen)
        if account.totp_pending is None:
            raise conflict("no_enrolment", "start setting up two-step sign-in first")
        secret = self.sealer.decrypt(account.totp_pending,
                                     _totp_context(account.login, "pending"))
        now = self.clock.now()
        step = _matching_step(secret.decode(), code, now)
        if step is None:
            raise invalid("code_invalid", "that code is not right; check the app's clock "
                                          "and try the newest code")
        sealed = self.sealer.encrypt(self.operator_org, secret,
                                     _totp_context(account.login, "live"))
        with self.uows(write=True) as uow:
            uow.accounts.update(account.login, totp=sealed, totp_pending=None,
                                totp_last_step=step)
            uow.audit.record(AuditEntry("account.totp", "done", citizen.id, citizen.org_id,
                                        person_key=citizen.person_key), now)
            uow.commit()

    def _totp_step(self, login: str, sealed: dict[str, Any], code: str,
                   now: datetime) -> int | None:
        secret = self.sealer.decrypt(sealed, _totp_context(login, "live")).decode()
        return _matching_step(secret, code, now)


def _totp_context(login: str, state: str) -> dict[str, str]:
    return {"purpose": "totp", "account": login, "state": state}


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code `code` is, allowing one step of clock drift either way."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None
