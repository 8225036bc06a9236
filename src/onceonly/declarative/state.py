"""What the exchange holds now, read through its use cases: what a declaration is
compared with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from onceonly.bootstrap import Exchange
from onceonly.domain.agreements import Agreement
from onceonly.domain.catalogue import Dataset
from onceonly.domain.organisations import (
    Organisation,
    Principal,
    Scheme,
)
from onceonly.services.ports.people import StaffMember


@dataclass
class State:
    """What the exchange holds now, read through its use cases."""

    organisations: dict[str, Organisation]
    schemes: dict[str, Scheme]
    keys: dict[str, dict[str, bool]]  # org -> kid -> still in use (not retired)
    staff: dict[str, list[StaffMember]]
    datasets: dict[str, Dataset]
    agreements: list[Agreement]
    connectors: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    uses: dict[str, list[str]] = field(default_factory=dict)  # org -> schemes it names by

    @classmethod
    def read(cls, exchange: Exchange, admin: Principal) -> State:
        organisations = {o.id: o for o in exchange.members.list(admin)}
        keys = {org_id: {k.kid: k.retired_at is None
                         for k in exchange.org_keys.list(org_id).registered}
                for org_id in organisations}
        staff = {org_id: exchange.people.list(admin, org_id) for org_id in organisations}
        datasets = {d.id: d for d in exchange.catalogue.read().datasets}
        return cls(organisations, {s.code: s for s in exchange.members.schemes(admin)}, keys,
                   staff, datasets, exchange.agreements.list(admin),
                   {d: exchange.datasets.connector_of(d) for d in datasets},
                   {o: exchange.members.schemes_used_by(o) for o in organisations})

    def person(self, org_id: str, name: str, role: str) -> Principal | None:
        return next((m.principal for m in self.staff.get(org_id, [])
                     if m.disabled_at is None and m.principal.name == name
                     and m.principal.role.value == role and m.principal.system_id is None),
                    None)
