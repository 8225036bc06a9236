"""Members of the exchange, as its operator's administrators keep them: initialising a new
exchange (its operator, the operator's signing key, a first administrator), registering
organisations, their systems and identifier schemes, and suspending, resuming or
deregistering a member. Every change and every refusal is audited."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from onceonly.audit.entries import AuditEntry
from onceonly.crypto.tokens import new_token, token_digest
from onceonly.domain import agreements as lifecycle
from onceonly.domain.agreements import Agreement, AgreementStatus
from onceonly.domain.errors import conflict, forbidden, invalid, not_found
from onceonly.domain.organisations import (
    Organisation,
    Principal,
    Role,
    Scheme,
    member_moved,
    parse_member_id,
    parse_scheme_pattern,
    parse_system_id,
)
from onceonly.services.auth import require_role
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.members import HostedKeys, MemberEvent, MembersUnitOfWork, TreeHeads
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import refuse_as, refusing

FIRST_ADMIN_DAYS = 30
ALREADY_INITIALISED = "already_initialised"  # the refusal of a second init
_SCHEME_CODE = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")


@dataclass(frozen=True, slots=True)
class Initialised:
    operator: Organisation
    admin: Principal
    token: str  # shown once: only its digest is stored
    kid: str


class MembersService:
    def __init__(self, uows: UnitOfWorkFactory[MembersUnitOfWork], clock: Clock,
                 keys: HostedKeys, heads: TreeHeads, operator_org: str) -> None:
        self.uows = uows
        self.clock = clock
        self.keys = keys
        self.heads = heads
        self.operator_org = operator_org

    # -- a new exchange --------------------------------------------------------------------

    def initialise(self, operator_id: str, name: str,
                   days: int = FIRST_ADMIN_DAYS) -> Initialised:
        """On a migrated, empty database: the operator organisation, its signing key, the
        empty tree's signed head, and a first administrator's token."""
        with refusing(self.uows, self.clock, "exchange.init", None,
                      detail={"operator": operator_id}):
            parse_member_id(operator_id)
            name = _named(name)
            if operator_id != self.operator_org:
                raise invalid("operator_mismatch", (
                    f"this exchange signs as {self.operator_org} (ONCEONLY_OPERATOR_ORG); "
                    f"set ONCEONLY_OPERATOR_ORG={operator_id} here and for every server"))
            now = self.clock.now()
            operator = Organisation(operator_id, name)
            admin = Principal(_principal_id(operator_id, Role.ADMIN),
                              "Exchange administrator", operator_id, Role.ADMIN)
            token = new_token()
            with self.uows(write=True) as uow:
                if uow.members.any():
                    raise conflict(ALREADY_INITIALISED, "this exchange is already initialised")
                # Checked before anything is written: an operator without a key would make
                # a rerun say "already initialised" of an exchange that cannot sign.
                unready = self.keys.unready()
                if unready is not None:
                    raise conflict("key_store_unavailable", "the operator's signing key "
                                   f"cannot be made: {unready}. Nothing was initialised")
                uow.members.add(operator, now, operator=True)
                uow.members.record(MemberEvent(operator_id, now, "register", admin.id,
                                               "the exchange's operator"))
                uow.principals.add(admin)
                uow.principals.add_token(token_digest(token), admin.id, now,
                                         now + timedelta(days=days))
                uow.commit()
        kid = self.keys.add_hosted_key(operator_id, now)
        self.heads.integrate()  # the empty tree's head, signed by the new key
        with self.uows(write=True) as uow:
            uow.audit.record(AuditEntry("exchange.init", "done", admin.id, operator_id,
                                        detail={"operator": operator_id, "kid": kid,
                                                "admin": admin.id}), now)
            uow.commit()
        return Initialised(operator, admin, token, kid)

    # -- members ---------------------------------------------------------------------------

    def register(self, admin: Principal, org_id: str, name: str) -> Organisation:
        """A new member (CLASS/CODE of a known member class), with a signing key the
        exchange holds for it."""
        self._require_operator_admin(admin, "member.register")
        now = self.clock.now()
        with refusing(self.uows, self.clock, "member.register", admin,
                      detail={"member": org_id}), self.uows(write=True) as uow:
            parse_member_id(org_id)
            org = Organisation(org_id, _named(name))
            if uow.catalogue.organisation(org_id) is not None:
                raise conflict("already_exists", f"{org_id} is a member already")
            uow.members.add(org, now)
            uow.members.record(MemberEvent(org_id, now, "register", admin.id, "registered"))
            uow.audit.record(_done(admin, "member.register", org_id, {"name": org.name}), now)
            uow.commit()
        self.keys.add_hosted_key(org_id, now)
        return org

    def add_system(self, admin: Principal, system_id: str, title: str) -> str:
        self._require_operator_admin(admin, "member.system_add")
        now = self.clock.now()
        with refusing(self.uows, self.clock, "member.system_add", admin,
                      detail={"system": system_id}), self.uows(write=True) as uow:
            parse_system_id(system_id)
            org_id = system_id.rsplit("/", 1)[0]
            self._member(uow, org_id)
            if uow.members.system_exists(system_id):
                raise conflict("already_exists", f"{system_id} is registered already")
            uow.members.add_system(system_id, org_id, _named(title))
            uow.audit.record(_done(admin, "member.system_add", org_id,
                                   {"system": system_id}), now)
            uow.commit()
        return system_id

    def add_scheme(self, admin: Principal, scheme: Scheme) -> Scheme:
        """An identifier scheme: its code, name, format (a regular expression that compiles)
        and issuing member, which names people by it."""
        self._require_operator_admin(admin, "scheme.add")
        now = self.clock.now()
        with refusing(self.uows, self.clock, "scheme.add", admin,
                      detail={"scheme": scheme.code}), self.uows(write=True) as uow:
            if not _SCHEME_CODE.match(scheme.code):
                raise invalid("invalid_scheme_code", f"{scheme.code!r} is not a scheme code; "
                              "expected lower case letters, digits, - or _, such as nino")
            parse_scheme_pattern(scheme.pattern or "")
            scheme = Scheme(scheme.code, _named(scheme.name), scheme.issuer_id, scheme.pattern)
            self._member(uow, scheme.issuer_id)
            if uow.members.scheme(scheme.code) is not None:
                raise conflict("already_exists", f"scheme {scheme.code} exists already")
            uow.members.add_scheme(scheme)
            uow.audit.record(_done(admin, "scheme.add", scheme.issuer_id, {
                "scheme": scheme.code, "pattern": scheme.pattern}), now)
            uow.commit()
        return scheme

    def use_scheme(self, admin: Principal, org_id: str, code: str) -> None:
        """The member names people by another member's scheme too (a consumer asking by the
        identifier it holds): it may then ask by it, and be told by it."""
        self._require_operator_admin(admin, "scheme.use")
        now = self.clock.now()
        with refusing(self.uows, self.clock, "scheme.use", admin,
                      detail={"member": org_id, "scheme": code[:32]}), \
                self.uows(write=True) as uow:
            self._member(uow, org_id)
            if uow.members.scheme(code) is None:
                raise not_found("unknown_scheme", f"no identifier scheme {code!r}")
            if code in uow.members.names_people_by(org_id):
                raise conflict("already_exists", f"{org_id} names people by {code} already")
            uow.members.name_people_by(org_id, code)
            uow.audit.record(_done(admin, "scheme.use", org_id, {"scheme": code}), now)
            uow.commit()

    def schemes_used_by(self, org_id: str) -> list[str]:
        with self.uows() as uow:
            return uow.members.names_people_by(org_id)

    def schemes(self, reader: Principal) -> list[Scheme]:
        with self.uows() as uow:
            return uow.members.schemes()

    def list(self, reader: Principal) -> list[Organisation]:
        require_role(self.uows, self.clock, reader, {Role.ADMIN, Role.MANAGER}, "member.list")
        with self.uows() as uow:
            return uow.catalogue.organisations()

    def history(self, reader: Principal, org_id: str) -> list[MemberEvent]:
        require_role(self.uows, self.clock, reader, {Role.ADMIN, Role.MANAGER},
                     "member.history")
        with self.uows() as uow:
            return uow.members.history(org_id)

    # -- suspension ------------------------------------------------------------------------

    def suspend(self, admin: Principal, org_id: str, reason: str) -> MemberEvent:
        """Every agreement in force that the member is party to is suspended with it, in
        one transaction; its tokens are refused from the next request on."""
        return self._move(admin, org_id, "suspend", reason)

    def resume(self, admin: Principal, org_id: str, reason: str) -> MemberEvent:
        """The agreements its last suspension suspended resume (unless moved since)."""
        return self._move(admin, org_id, "resume", reason)

    def deregister(self, admin: Principal, org_id: str, reason: str) -> MemberEvent:
        """It leaves: its tokens are refused and its agreements in force suspended; its
        history and audit entries stay."""
        return self._move(admin, org_id, "deregister", reason)

    # long: one transaction, one lifecycle step over the member and its agreements
    def _move(self, admin: Principal, org_id: str, action: str, reason: str) -> MemberEvent:
        self._require_operator_admin(admin, f"member.{action}")
        now = self.clock.now()
        with refusing(self.uows, self.clock, f"member.{action}", admin,
                      detail={"member": org_id}), self.uows(write=True) as uow:
            reason = lifecycle.require_reason(reason)
            member = self._member(uow, org_id)
            if org_id == (uow.members.operator() or self.operator_org):
                raise conflict("operator_member", "the exchange's operator cannot "
                               f"{action} itself")
            status = member_moved(org_id, member.status, action)
            moved: list[int] = []
            if action == "resume":
                last = [e for e in uow.members.history(org_id) if e.action == "suspend"]
                for agreement_id in (last[-1].agreement_ids if last else ()):
                    agreement = uow.agreements.get(agreement_id)
                    if agreement is not None and agreement.status is AgreementStatus.SUSPENDED:
                        _save(uow, lifecycle.resume_for_member(agreement, admin, reason, now),
                              agreement, admin, now)
                        moved.append(agreement_id)
            else:
                for agreement in uow.agreements.list_for(org_id):
                    if agreement.status is AgreementStatus.APPROVED and agreement.id:
                        _save(uow, lifecycle.suspend_for_member(agreement, admin, reason, now),
                              agreement, admin, now)
                        moved.append(agreement.id)
            uow.members.set_status(org_id, status)
            event = MemberEvent(org_id, now, action, admin.id, reason, tuple(moved))
            uow.members.record(event)
            uow.audit.record(_done(admin, f"member.{action}", org_id, {
                "why": reason, "agreements": moved, "status": status.value}), now)
            uow.commit()
        return event

    def _member(self, uow: MembersUnitOfWork, org_id: str) -> Organisation:
        org = uow.catalogue.organisation(org_id)
        if org is None:
            raise not_found("unknown_organisation", f"no organisation {org_id} in this exchange")
        return org

    def operator(self) -> str:
        """The member that runs the exchange, as stored when it was initialised (before
        that, the one configured to: ONCEONLY_OPERATOR_ORG)."""
        with self.uows() as uow:
            return uow.members.operator() or self.operator_org

    def _require_operator_admin(self, actor: Principal, action: str) -> None:
        """The exchange's administrators: an administrator of its operator."""
        require_role(self.uows, self.clock, actor, {Role.ADMIN}, action)
        if actor.org_id != self.operator():
            refuse_as(self.uows, self.clock, action, actor, forbidden(
                "role_not_allowed", f"{action} is for the exchange operator's administrators"))


def _save(uow: MembersUnitOfWork, moved: Agreement, before: Agreement, actor: Principal,
          now: datetime) -> None:
    """The agreement moved with its member, saved and audited as any lifecycle step."""
    uow.agreements.save(moved)
    uow.audit.record(AuditEntry(
        f"agreement.{moved.history[-1].action}", "done", actor.id, actor.org_id,
        agreement_id=moved.id, provider_id=moved.provider_id,
        detail={"from": before.status.value, "to": moved.status.value,
                "why": moved.history[-1].reason}), now)


def _named(name: str) -> str:
    name = name.strip()
    if not name:
        raise invalid("name_required", "a name is required")
    return name


def _principal_id(org_id: str, role: Role) -> str:
    return f"{org_id.lower().replace('/', '_')}.{role.value}.{secrets.token_hex(4)}"


def _done(actor: Principal, action: str, org_id: str, detail: dict[str, object]) -> AuditEntry:
    return AuditEntry(action, "done", actor.id, actor.org_id,
                      detail={"member": org_id, **detail})
