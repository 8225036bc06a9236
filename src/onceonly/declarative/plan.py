"""What applying a declaration would change in an exchange, as a list of steps, each done
through the exchange's own use cases (members, org keys, people, datasets, agreements) as
its administrator: never by writing its tables. What is there already and matches is left
alone; what the file does not name is removed only when pruning (members deregistered,
people disabled, keys retired: their history stays)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from joserfc.jwk import OKPKey

from onceonly.bootstrap import Exchange
from onceonly.declarative.commands import condition_of, dataset_changes, publication_of
from onceonly.declarative.document import Declaration, DeclarationError, Loc
from onceonly.declarative.state import State
from onceonly.domain.agreements import (
    AgreementStatus,
    FieldGrant,
    LegalBasis,
    PrivacyAssessment,
    Risk,
)
from onceonly.domain.catalogue import check_fields
from onceonly.domain.errors import DomainError
from onceonly.domain.org_keys import public_jwk
from onceonly.domain.organisations import (
    MemberStatus,
    Principal,
    Role,
    Scheme,
    parse_member_id,
    parse_scheme_pattern,
)
from onceonly.services.agreements import DraftCommand
from onceonly.services.people import Issued, NewPerson
from onceonly.services.ports.people import StaffMember

ENDED = {AgreementStatus.REJECTED, AgreementStatus.REVOKED}


@dataclass(frozen=True)
class Step:
    sign: str  # + added, ~ changed, - removed
    what: str
    do: Callable[[], str | None]  # what it did worth saying (a token, shown once)

    def __str__(self) -> str:
        return f"{self.sign} {self.what}"


class Planner:
    """The steps that bring `state` to what `declaration` says, in the order they must be
    taken (members before their systems, keys and people; schemes before datasets; datasets
    before agreements; removals last)."""

    def __init__(self, exchange: Exchange, admin: Principal, declaration: Declaration,
                 state: State) -> None:
        self.exchange = exchange
        self.admin = admin
        self.doc = declaration
        self.state = state
        self.steps: list[Step] = []
        self.notes: list[str] = []
        self.problems: list[str] = []
        self.issued: list[Issued] = []  # the people made, with their first tokens

    def plan(self, *, prune: bool) -> list[Step]:
        self._organisations()
        self._schemes()
        self._scheme_uses()
        self._datasets()
        self._agreements()
        if self.problems:
            raise DeclarationError(self.problems)
        if prune:
            self._prune()
        return self.steps

    def _add(self, sign: str, what: str, do: Callable[[], str | None]) -> None:
        self.steps.append(Step(sign, what, do))

    def _refuse(self, loc: Loc, message: str) -> None:
        self.problems.append(self.doc.problem(loc, message))

    def _checked(self, loc: Loc, check: Callable[[], object]) -> bool:
        """A domain rule applied to the file before anything is done: its refusal becomes
        a problem at `loc`."""
        try:
            check()
        except DomainError as error:
            self._refuse(loc, error.detail)
            return False
        return True

    # -- what the file names -------------------------------------------------------------

    def declared_orgs(self) -> set[str]:
        return {o["id"] for o in self.doc.data.get("organisations") or []}

    def _organisations(self) -> None:
        seen: set[str] = set()
        members, admin = self.exchange.members, self.admin
        for loc, org in self.doc.items("organisations"):
            org_id = org["id"]
            if org_id in seen:
                self._refuse((*loc, "id"), f"{org_id} is declared twice")
                continue
            seen.add(org_id)
            current = self.state.organisations.get(org_id)
            if current is None:
                if self._checked((*loc, "id"), lambda org_id=org_id: parse_member_id(org_id)):
                    self._add("+", f"organisation {org_id} ({org['name']})",
                              lambda o=org: _quiet(members.register(admin, o["id"], o["name"])))
            elif current.name != org["name"]:
                self.notes.append(f"{org_id} is named {current.name!r} here; apply does not "
                                  "rename members")
            for system in org.get("systems") or []:
                system_id = f"{org_id}/{system['code']}"
                if current is None or system_id not in current.systems:
                    self._add("+", f"system {system_id} ({system['title']})",
                              lambda s=system_id, t=system["title"]: _quiet(
                                  members.add_system(admin, s, t)))
            self._keys(loc, org_id, org.get("keys") or [])
            self._people(loc, org_id, org.get("people") or [])

    def _keys(self, loc: Loc, org_id: str, keys: list[Mapping[str, Any]]) -> None:
        held = self.state.keys.get(org_id, {})
        for i, key in enumerate(keys):
            where = (*loc, "keys", i)
            if not self._checked(where, lambda k=key: public_jwk(k["jwk"])):
                continue
            try:
                kid = OKPKey.import_key(public_jwk(key["jwk"])).thumbprint()
            except ValueError as problem:
                self._refuse(where, f"not an Ed25519 public key: {problem}")
                continue
            if kid not in held:
                self._add("+", f"key {kid} of {org_id} ({', '.join(key['purposes'])})",
                          lambda k=key: _quiet(self.exchange.org_keys.register(
                              self.admin, org_id, k["jwk"], k["purposes"])))
            elif not held[kid]:
                self._refuse(where, f"key {kid} of {org_id} was retired; a retired key is "
                             "not used again: declare a new one")

    def _people(self, loc: Loc, org_id: str, people: list[Mapping[str, Any]]) -> None:
        seen: set[tuple[str, str]] = set()
        for i, person in enumerate(people):
            known_as = (person["name"], person["role"])
            if known_as in seen:
                self._refuse((*loc, "people", i), f"{person['name']} ({person['role']}) is "
                             f"declared twice in {org_id}")
            seen.add(known_as)
            if self.state.person(org_id, *known_as) is None:
                self._add("+", f"{person['role']} {person['name']} of {org_id}",
                          lambda p=person: self._add_person(org_id, p))

    def _add_person(self, org_id: str, person: Mapping[str, Any]) -> str:
        issued = self.exchange.people.add(self.admin, NewPerson(
            org_id, person["name"], Role(person["role"]), person.get("token_days", 30)))
        self.issued.append(issued)
        self.state.staff.setdefault(org_id, []).append(
            StaffMember(issued.principal, None, None, 1))
        return (f"  {issued.principal.id} ({person['name']}): token, shown once, until "
                f"{issued.expires_on}: {issued.token}")

    def _schemes(self) -> None:
        known = self.state.organisations.keys() | self.declared_orgs()
        for loc, scheme in self.doc.items("schemes"):
            if scheme["issuer"] not in known:
                self._refuse((*loc, "issuer"), f"no organisation {scheme['issuer']} here "
                             "or in the file")
            if not self._checked((*loc, "pattern"),
                                 lambda p=scheme["pattern"]: parse_scheme_pattern(p)):
                continue
            current = self.state.schemes.get(scheme["code"])
            wanted = Scheme(scheme["code"], scheme["name"], scheme["issuer"], scheme["pattern"])
            if current is None:
                self._add("+", f"scheme {wanted.code} ({wanted.name}), issued by "
                          f"{wanted.issuer_id}", lambda s=wanted: _quiet(
                              self.exchange.members.add_scheme(self.admin, s)))
            elif current != wanted:
                self.notes.append(f"scheme {wanted.code} differs from the file; apply does "
                                  "not change schemes")

    def _scheme_uses(self) -> None:
        """Other members' schemes a member names people by (its own it does already)."""
        issuers = {s.code: s.issuer_id for s in self.state.schemes.values()} | {
            s["code"]: s["issuer"] for s in self.doc.data.get("schemes") or []}
        for loc, org in self.doc.items("organisations"):
            for i, code in enumerate(org.get("names_people_by") or []):
                if code not in issuers:
                    self._refuse((*loc, "names_people_by", i), f"no identifier scheme "
                                 f"{code} here or in the file")
                elif issuers[code] != org["id"] \
                        and code not in self.state.uses.get(org["id"], []):
                    self._add("+", f"{org['id']} names people by {code}",
                              lambda o=org["id"], c=code: self.exchange.members.use_scheme(
                                  self.admin, o, c))

    def _datasets(self) -> None:
        systems = {s for o in self.state.organisations.values() for s in o.systems} | {
            f"{o['id']}/{s['code']}" for o in self.doc.data.get("organisations") or []
            for s in o.get("systems") or []}
        schemes = self.state.schemes.keys() | {
            s["code"] for s in self.doc.data.get("schemes") or []}
        for loc, dataset in self.doc.items("datasets"):
            if dataset["system"] not in systems:
                self._refuse((*loc, "system"), f"no system {dataset['system']} here or in "
                             "the file")
            if dataset["subject_scheme"] not in schemes:
                self._refuse((*loc, "subject_scheme"), f"no identifier scheme "
                             f"{dataset['subject_scheme']} here or in the file")
            publication = publication_of(dataset)
            if not self._checked((*loc, "fields"), lambda p=publication: check_fields(p.fields)):
                continue
            current = self.state.datasets.get(publication.system_id)
            changed = dataset_changes(current, publication,
                               self.state.connectors.get(publication.system_id))
            if current is None or changed:
                version = (current.version if current else 0) + 1
                sign = "~" if current else "+"
                about = f" (changed: {', '.join(changed)})" if current else ""
                self._add(sign, f"dataset {publication.system_id} version {version}{about}",
                          lambda p=publication: _quiet(
                              self.exchange.datasets.publish(self.admin, p)))

    def _agreements(self) -> None:
        datasets = self.state.datasets.keys() | {
            d["system"] for d in self.doc.data.get("datasets") or []}
        people = {(o["id"], p["name"]) for o in self.doc.data.get("organisations") or []
                  for p in o.get("people") or [] if p["role"] in ("officer", "guardian")}
        for loc, spec in self.doc.items("agreements"):
            if spec["dataset"] not in datasets:
                self._refuse((*loc, "dataset"), f"no dataset {spec['dataset']} here or in "
                             "the file")
            if (spec["consumer"], spec["drafted_by"]) not in people:
                self._refuse((*loc, "drafted_by"), f"no officer or guardian named "
                             f"{spec['drafted_by']} of {spec['consumer']} in the file")
                continue
            current = next((a for a in self.state.agreements
                            if (a.dataset_id, a.consumer_id, a.purpose_code)
                            == (spec["dataset"], spec["consumer"], spec["purpose"])
                            and a.status not in ENDED), None)
            about = f"{spec['consumer']} on {spec['dataset']} for {spec['purpose']}"
            if current is None:
                verb = "drafted and submitted" if spec.get("submit") else "drafted"
                self._add("+", f"agreement ({verb}): {about}",
                          lambda s=spec: self._draft(s))
            elif spec.get("submit") and current.status is AgreementStatus.DRAFT:
                self._add("~", f"agreement {current.id} submitted: {about}",
                          lambda s=spec, a=current.id: self._submit(s, a))

    def _drafter(self, spec: Mapping[str, Any]) -> Principal:
        for role in ("officer", "guardian"):
            found = self.state.person(spec["consumer"], spec["drafted_by"], role)
            if found is not None:
                return found
        raise DeclarationError([f"{spec['drafted_by']} of {spec['consumer']} is not here"])

    def _draft(self, spec: Mapping[str, Any]) -> str:
        drafter = self._drafter(spec)
        now = self.exchange.clock.now()
        assessment = spec["assessment"]
        draft = self.exchange.agreements.draft(drafter, DraftCommand(
            dataset_id=spec["dataset"],
            grants=[FieldGrant(g.get("name", g["source"]), g["source"],
                               g.get("transform", "as_is")) for g in spec["grants"]],
            purpose_code=spec["purpose"], purpose_text=spec["purpose_text"],
            legal_basis=LegalBasis(spec["legal_basis"]),
            valid_from=now - timedelta(minutes=1),
            valid_until=now + timedelta(days=spec["valid_days"]),
            max_queries_per_day=spec["max_queries_per_day"],
            retention_days=spec["retention_days"],
            assessment=PrivacyAssessment(Risk(assessment["risk"]), assessment["summary"],
                                         drafter.name, now.date(),
                                         assessment.get("reference", "")),
            special_category_condition=condition_of(spec.get("special_category_condition")),
            hidden_days=spec.get("hidden_days", 0),
            max_persons_per_day=spec.get("max_persons_per_day"),
            max_uses=spec.get("max_uses"),
            bulk_max_records=spec.get("bulk_max_records"),
            requires_training=spec.get("requires_training", False)))
        assert draft.id is not None
        if spec.get("submit"):
            self._submit(spec, draft.id)
        return f"  agreement {draft.id}"

    def _submit(self, spec: Mapping[str, Any], agreement_id: int) -> None:
        self.exchange.agreements.transition(self._drafter(spec), agreement_id, "submit",
                                            "declared ready for decision")

    # -- what the file does not name -----------------------------------------------------

    def _prune(self) -> None:
        declared = self.declared_orgs()
        why = f"not in {self.doc.path.name}"
        operator = self.exchange.members.operator()
        for org_id, org in self.state.organisations.items():
            if org_id not in declared and org_id != operator \
                    and org.status is not MemberStatus.DEREGISTERED:
                self._add("-", f"organisation {org_id} deregistered",
                          lambda o=org_id: _quiet(
                              self.exchange.members.deregister(self.admin, o, why)))
        for org in self.doc.data.get("organisations") or []:
            self._prune_within(org)

    def _prune_within(self, org: Mapping[str, Any]) -> None:
        org_id = org["id"]
        kids = {OKPKey.import_key(public_jwk(k["jwk"])).thumbprint()
                for k in org.get("keys") or []}
        for kid, in_use in self.state.keys.get(org_id, {}).items():
            if in_use and kid not in kids:
                self._add("-", f"key {kid} of {org_id} retired", lambda k=kid: _quiet(
                    self.exchange.org_keys.retire(self.admin, org_id, k)))
        people = {(p["name"], p["role"]) for p in org.get("people") or []}
        for member in self.state.staff.get(org_id, []):
            person = member.principal
            if member.disabled_at is None and person.system_id is None \
                    and person.role.value in ("officer", "guardian", "manager", "org_admin") \
                    and (person.name, person.role.value) not in people:
                self._add("-", f"{person.role.value} {person.name} of {org_id} "
                          f"({person.id}) disabled", lambda p=person.id: _quiet(
                              self.exchange.people.disable(self.admin, p)))


def _quiet(_: object) -> None:
    """A step whose doing is said by its line in the plan."""
