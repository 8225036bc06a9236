"""The portals' navigation: one entry per page, for the roles that may open it. A new page
adds its entry here (its template under templates/, its routes in its portal's module); the
layout draws the rest."""

from __future__ import annotations

from dataclasses import dataclass

from onceonly.domain.organisations import Principal, Role
from onceonly.entrypoints.web.i18n import N_

STAFF_HOME = {Role.GUARDIAN: "/guardian", Role.MANAGER: "/manager", Role.ADMIN: "/manager"}


@dataclass(frozen=True, slots=True)
class NavEntry:
    label: str
    path: str
    roles: frozenset[Role]


NAV: list[NavEntry] = [
    NavEntry(N_("Who accessed my data"), "/citizen", frozenset({Role.CITIZEN})),
    NavEntry(N_("My consents"), "/citizen/consents", frozenset({Role.CITIZEN})),
    NavEntry(N_("Tell us once"), "/citizen/tell-us-once", frozenset({Role.CITIZEN})),
    NavEntry(N_("My reports"), "/citizen/reports", frozenset({Role.CITIZEN})),
    NavEntry(N_("Challenge a value"), "/citizen/challenges", frozenset({Role.CITIZEN})),
    NavEntry(N_("Two-step sign-in"), "/citizen/security", frozenset({Role.CITIZEN})),
    NavEntry(N_("Agreements and alerts"), "/guardian", frozenset({Role.GUARDIAN})),
    NavEntry(N_("Deliveries, challenges, links"), "/guardian/queues", frozenset({Role.GUARDIAN})),
    NavEntry(N_("Kill switch"), "/guardian/kill-switch", frozenset({Role.GUARDIAN})),
    NavEntry(N_("Service figures"), "/manager", frozenset({Role.MANAGER, Role.ADMIN})),
    NavEntry(N_("Work queue"), "/manager/queue", frozenset({Role.MANAGER, Role.ADMIN})),
]


def nav_for(principal: Principal | None) -> list[NavEntry]:
    if principal is None:
        return []
    return [entry for entry in NAV if principal.role in entry.roles]


def home_for(principal: Principal) -> str:
    """Where a person lands after signing in."""
    if principal.role is Role.CITIZEN:
        return "/citizen"
    return STAFF_HOME.get(principal.role, "/")
