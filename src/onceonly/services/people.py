"""People: identifiers of people as an organisation names them (for trying queries against
a demo world), and the people who act for an organisation, kept by its own administrators
(`org_admin`): its officers, guardians and managers, service accounts for its systems, their
tokens, and officers' data-protection training. An organisation's administrator acts for
their own organisation only; the exchange's administrators for any (and they alone make
an organisation's administrators)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from onceonly.audit.entries import AuditEntry
from onceonly.crypto.tokens import new_token, token_digest
from onceonly.domain.errors import forbidden, invalid, not_found
from onceonly.domain.organisations import (
    STAFF_ROLES,
    Principal,
    Role,
    Training,
    parse_system_id,
)
from onceonly.services.auth import require_role
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.people import PeopleUnitOfWork, PersonIdentifiers, StaffMember
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import refusing

KEEPERS = {Role.ORG_ADMIN, Role.ADMIN}  # who keeps an organisation's people
LAPSING_DAYS = 30  # training that lapses within this many days is shown ahead


@dataclass(frozen=True, slots=True)
class NewPerson:
    org_id: str
    name: str
    role: Role
    days: int = 30  # the first token's life
    system_id: str | None = None  # for a service account: the system it acts as


@dataclass(frozen=True, slots=True)
class Issued:
    principal: Principal
    token: str  # shown once: only its digest is stored
    expires_on: date


class PeopleService:
    def __init__(self, index: PersonIdentifiers, uows: UnitOfWorkFactory[PeopleUnitOfWork],
                 clock: Clock) -> None:
        self.index = index
        self.uows = uows
        self.clock = clock

    def identifiers_named_by(self, org_id: str, limit: int) -> list[tuple[str, str]]:
        """Identifiers of people under the schemes `org_id` names them by."""
        schemes = self.index.schemes_of(org_id)
        if not schemes:
            raise not_found("no_identifiers", f"{org_id} names nobody by an identifier here")
        return self.index.identifiers(schemes, limit)

    # -- an organisation's people ----------------------------------------------------------

    # long: the rules of who may make whom, then one transaction that makes them
    def add(self, keeper: Principal, new: NewPerson) -> Issued:
        """A new officer, guardian or manager of the keeper's organisation (or, for the
        exchange's administrators, an organisation's administrator), or a service account
        acting as one of its systems; with a first token, shown once."""
        require_role(self.uows, self.clock, keeper, KEEPERS, "people.add")
        now = self.clock.now()
        with refusing(self.uows, self.clock, "people.add", keeper,
                      detail={"org": new.org_id, "role": new.role.value}), \
                self.uows(write=True) as uow:
            _own(keeper, new.org_id)
            allowed = STAFF_ROLES | ({Role.ORG_ADMIN} if keeper.role is Role.ADMIN else set())
            if new.role not in allowed:
                raise forbidden("role_not_allowed", f"{keeper.role.value} may not make "
                                f"{new.role.value} accounts")
            if not 1 <= new.days <= 366:
                raise invalid("invalid_expiry", "a token lives between 1 and 366 days")
            name = new.name.strip()
            if not name:
                raise invalid("name_required", "a name is required")
            org = uow.catalogue.organisation(new.org_id)
            if org is None:
                raise not_found("unknown_organisation", f"no organisation {new.org_id}")
            if new.system_id is not None:
                parse_system_id(new.system_id)
                if new.system_id not in org.systems:
                    raise forbidden("not_your_organisation",
                                    f"{new.system_id} is not a system of {new.org_id}")
            slug = new.org_id.lower().replace("/", "_")
            principal = Principal(f"{slug}.{new.role.value}.{secrets.token_hex(4)}", name,
                                  new.org_id, new.role, None, new.system_id)
            uow.principals.add(principal, created_by=keeper.id)
            token = new_token()
            expires = now + timedelta(days=new.days)
            uow.principals.add_token(token_digest(token), principal.id, now, expires)
            uow.audit.record(_done(keeper, "people.add", new.org_id, {
                "principal": principal.id, "role": new.role.value, "days": new.days,
                "system": new.system_id}), now)
            uow.commit()
        return Issued(principal, token, expires.date())

    def issue_token(self, keeper: Principal, principal_id: str, days: int = 30) -> Issued:
        """Another token for someone of the keeper's organisation (a service account's
        next, before its last expires)."""
        now = self.clock.now()
        with refusing(self.uows, self.clock, "people.token_issue", keeper,
                      detail={"principal": principal_id}), self.uows(write=True) as uow:
            person = self._theirs(uow, keeper, principal_id, "people.token_issue")
            if not 1 <= days <= 366:
                raise invalid("invalid_expiry", "a token lives between 1 and 366 days")
            token = new_token()
            expires = now + timedelta(days=days)
            uow.principals.add_token(token_digest(token), person.id, now, expires)
            uow.audit.record(_done(keeper, "people.token_issue", person.org_id, {
                "principal": person.id, "days": days}), now)
            uow.commit()
        return Issued(person, token, expires.date())

    def revoke_tokens(self, keeper: Principal, principal_id: str) -> int:
        """Revoke every live token of someone of the keeper's organisation."""
        return self._change(keeper, principal_id, "people.token_revoke", disable=False)

    def disable(self, keeper: Principal, principal_id: str) -> int:
        """Disable someone of the keeper's organisation: their tokens and web sessions are
        refused from the next request on, on every server (read from the database)."""
        return self._change(keeper, principal_id, "people.disable", disable=True)

    def _change(self, keeper: Principal, principal_id: str, action: str, *,
                disable: bool) -> int:
        now = self.clock.now()
        with refusing(self.uows, self.clock, action, keeper,
                      detail={"principal": principal_id}), self.uows(write=True) as uow:
            person = self._theirs(uow, keeper, principal_id, action)
            if disable:
                uow.staff.disable(person.id, now)
            revoked = uow.staff.revoke_tokens(person.id, now)
            uow.audit.record(_done(keeper, action, person.org_id, {
                "principal": person.id, "tokens_revoked": revoked}), now)
            uow.commit()
        return revoked

    def list(self, keeper: Principal, org_id: str | None = None) -> list[StaffMember]:
        org_id = org_id or keeper.org_id
        require_role(self.uows, self.clock, keeper, KEEPERS, "people.list")
        with refusing(self.uows, self.clock, "people.list", keeper, detail={"org": org_id}):
            _own(keeper, org_id)
        with self.uows() as uow:
            return uow.staff.of_org(org_id, self.clock.now())

    def lapsing(self, keeper: Principal, org_id: str | None = None,
                days: int = LAPSING_DAYS) -> list[StaffMember]:
        """Officers whose training has lapsed, or lapses within `days` days, or who have
        none: those the organisation's administrator must see to."""
        today = self.clock.now().date()
        return [m for m in self.list(keeper, org_id)
                if m.principal.role is Role.OFFICER and m.disabled_at is None
                and (m.training is None or m.training.lapsed(today)
                     or m.training.lapses_within(today, days))]

    def record_training(self, keeper: Principal, principal_id: str, completed_on: date,
                        valid_until: date) -> Training:
        now = self.clock.now()
        with refusing(self.uows, self.clock, "people.training", keeper,
                      detail={"principal": principal_id}), self.uows(write=True) as uow:
            person = self._theirs(uow, keeper, principal_id, "people.training")
            if person.role is not Role.OFFICER:
                raise invalid("not_an_officer", "training records are kept for officers")
            training = Training(completed_on, valid_until)
            uow.staff.set_training(person.id, training, keeper.id, now)
            uow.audit.record(_done(keeper, "people.training", person.org_id, {
                "principal": person.id, "completed_on": completed_on.isoformat(),
                "valid_until": valid_until.isoformat()}), now)
            uow.commit()
        return training

    def _theirs(self, uow: PeopleUnitOfWork, keeper: Principal, principal_id: str,
                action: str) -> Principal:
        if keeper.role not in KEEPERS:
            allowed = " or ".join(sorted(r.value for r in KEEPERS))
            raise forbidden("role_not_allowed", f"{action} is for {allowed} roles only")
        person = uow.principals.get(principal_id)
        if person is None or person.role is Role.CITIZEN:
            raise not_found("unknown_principal", f"no one with id {principal_id}")
        _own(keeper, person.org_id)
        if person.role in (Role.ADMIN, Role.ORG_ADMIN) and keeper.role is not Role.ADMIN:
            raise forbidden("role_not_allowed", "an organisation's administrators are kept "
                            "by the exchange's")
        return person


def _own(keeper: Principal, org_id: str) -> None:
    """An organisation's administrator acts for their own organisation only."""
    if keeper.role is not Role.ADMIN and keeper.org_id != org_id:
        raise forbidden("not_your_organisation",
                        f"{keeper.id} acts for {keeper.org_id}, not {org_id}")


def _done(actor: Principal, action: str, org_id: str, detail: dict[str, object]) -> AuditEntry:
    return AuditEntry(action, "done", actor.id, actor.org_id, detail={"org": org_id, **detail})
