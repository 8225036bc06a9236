"""Organisations (X-Road style identifiers) and the principals who act for them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from onceonly.domain.errors import conflict, invalid

# CLASS/CODE, optionally followed by /SUBSYSTEM: GOV/HMRC, GOV/HMRC/income, LA/NORTHSHIRE.
ORG_ID_PATTERN = r"^[A-Z]{2,8}/[A-Z0-9][A-Z0-9_-]{0,31}$"
_ORG_ID = re.compile(ORG_ID_PATTERN)
_SYSTEM_ID = re.compile(r"^[A-Z]{2,8}/[A-Z0-9][A-Z0-9_-]{0,31}/[a-z0-9][a-z0-9_-]{0,31}$")


def parse_org_id(value: str) -> str:
    if not _ORG_ID.match(value):
        raise invalid(
            "invalid_org_id",
            f"{value!r} is not an organisation id; expected CLASS/CODE such as GOV/HMRC",
        )
    return value


def parse_system_id(value: str) -> str:
    if not _SYSTEM_ID.match(value):
        raise invalid(
            "invalid_system_id",
            f"{value!r} is not a system id; expected CLASS/CODE/system such as GOV/HMRC/income",
        )
    return value


class MemberClass(StrEnum):
    """The fixed list of member classes: the CLASS of every CLASS/CODE."""

    GOV = "GOV"  # central government
    LA = "LA"  # local authorities
    NHS = "NHS"  # health bodies
    POL = "POL"  # police forces
    EDU = "EDU"  # schools, colleges and universities
    CHA = "CHA"  # charities
    COM = "COM"  # companies


def parse_member_id(value: str) -> str:
    """A new member's CLASS/CODE, its CLASS one of the fixed member classes."""
    parse_org_id(value)
    member_class = value.partition("/")[0]
    if member_class not in MemberClass.__members__:
        known = ", ".join(MemberClass)
        raise invalid("unknown_member_class",
                      f"{member_class!r} is not a member class; one of {known}")
    return value


def parse_scheme_pattern(pattern: str) -> str:
    """An identifier scheme's format: a regular expression that compiles."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise invalid("invalid_pattern",
                      f"the format {pattern!r} is not a regular expression: {exc}") from None
    return pattern


class MemberStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DEREGISTERED = "deregistered"


# Which status each member action moves from, and to.
MEMBER_ACTIONS: dict[str, tuple[MemberStatus, MemberStatus]] = {
    "suspend": (MemberStatus.ACTIVE, MemberStatus.SUSPENDED),
    "resume": (MemberStatus.SUSPENDED, MemberStatus.ACTIVE),
    "deregister": (MemberStatus.ACTIVE, MemberStatus.DEREGISTERED),
}


def member_moved(org_id: str, status: MemberStatus, action: str) -> MemberStatus:
    """The member's status after `action`, or a conflict naming where it stands."""
    before, after = MEMBER_ACTIONS[action]
    if status is MemberStatus.SUSPENDED and action == "deregister":
        return after  # a suspended member may be deregistered without resuming first
    if status is not before:
        raise conflict("member_state", f"{org_id} is {status.value}; it cannot {action}")
    return after


class Role(StrEnum):
    CITIZEN = "citizen"
    OFFICER = "officer"
    GUARDIAN = "guardian"
    MANAGER = "manager"
    ADMIN = "admin"
    ORG_ADMIN = "org_admin"  # an organisation's own administrator


# The people an organisation's own administrator creates and disables.
STAFF_ROLES = frozenset({Role.OFFICER, Role.GUARDIAN, Role.MANAGER})


@dataclass(frozen=True, slots=True)
class Training:
    """An officer's data-protection training: completed on a day, valid until a day."""

    completed_on: date
    valid_until: date

    def __post_init__(self) -> None:
        if self.valid_until < self.completed_on:
            raise invalid("invalid_training",
                          "training is valid until a day on or after it was completed")

    def lapsed(self, today: date) -> bool:
        """Valid through its last day; lapsed from the day after."""
        return today > self.valid_until

    def lapses_within(self, today: date, days: int) -> bool:
        """Still valid today, and lapsing within `days` days."""
        return not self.lapsed(today) and self.valid_until < today + timedelta(days=days)


def training_lapsed(training: Training | None, today: date) -> bool:
    """Without a record, an officer counts as untrained."""
    return training is None or training.lapsed(today)


@dataclass(frozen=True, slots=True)
class Organisation:
    id: str
    name: str
    systems: tuple[str, ...] = ()
    status: MemberStatus = MemberStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Scheme:
    """An identifier scheme: what people are named by, its format, who issues it."""

    code: str
    name: str
    issuer_id: str
    pattern: str | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Someone acting through the exchange: their organisation and role decide what they may do."""

    id: str
    name: str
    org_id: str
    role: Role
    person_key: str | None = None  # set for citizens: which person in the index they are
    system_id: str | None = None  # set for a service account: the system it acts as


@dataclass(frozen=True, slots=True)
class TokenHolder:
    """An API token as a request finds it: its holder, and what stands in its way."""

    principal: Principal
    expires_at: datetime
    revoked: bool
    disabled: bool  # the holder was disabled
    member_status: MemberStatus  # the holder's organisation's

    def state(self, now: datetime) -> str:
        """'live', or why the token is refused: its holder first (disabling revokes their
        tokens too, and the holder is the reason), then its organisation, then the token.
        The end is checked against `now` on every request, however the rest was read."""
        if self.disabled:
            return "disabled"
        if self.member_status is not MemberStatus.ACTIVE:
            return f"member_{self.member_status.value}"
        if self.revoked:
            return "revoked"
        return "expired" if self.expires_at <= now else "live"
