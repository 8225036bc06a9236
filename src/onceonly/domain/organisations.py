"""Organisations (X-Road style identifiers) and the principals who act for them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from onceonly.domain.errors import invalid

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


class Role(StrEnum):
    CITIZEN = "citizen"
    OFFICER = "officer"
    GUARDIAN = "guardian"
    MANAGER = "manager"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Organisation:
    id: str
    name: str
    systems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Principal:
    """Someone acting through the exchange: their organisation and role decide what they may do."""

    id: str
    name: str
    org_id: str
    role: Role
    person_key: str | None = None  # set for citizens: which person in the index they are
