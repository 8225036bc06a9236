"""Members over HTTP: the exchange's administrators register organisations, their systems
and identifier schemes, and suspend, resume or deregister a member."""

from __future__ import annotations

from fastapi import APIRouter

from onceonly.domain.organisations import Scheme
from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.routes.keys import OrgClass, OrgCode
from onceonly.entrypoints.api.schemas.common import ReasonIn
from onceonly.entrypoints.api.schemas.members import (
    MemberEventOut,
    MemberIn,
    MemberOut,
    SchemeIn,
    SchemeOut,
    SystemIn,
    SystemOut,
)

router = APIRouter(tags=["members"], route_class=JsonRoute)


@router.post("/v1/members", status_code=201, response_model=MemberOut)
def register_member(body: MemberIn, caller: Caller, exchange: ExchangeDep) -> MemberOut:
    """Register an organisation (the exchange's administrators); the exchange holds a
    signing key for it."""
    return MemberOut.of(exchange.members.register(caller, body.id, body.name))


@router.get("/v1/members", response_model=list[MemberOut])
def list_members(caller: Caller, exchange: ExchangeDep) -> list[MemberOut]:
    return [MemberOut.of(org) for org in exchange.members.list(caller)]


@router.get("/v1/members/{member_class}/{code}/history", response_model=list[MemberEventOut])
def member_history(member_class: OrgClass, code: OrgCode, caller: Caller,
                   exchange: ExchangeDep) -> list[MemberEventOut]:
    return [MemberEventOut.of(e)
            for e in exchange.members.history(caller, f"{member_class}/{code}")]


@router.post("/v1/members/{member_class}/{code}/suspend", response_model=MemberEventOut)
def suspend_member(member_class: OrgClass, code: OrgCode, body: ReasonIn, caller: Caller,
                   exchange: ExchangeDep) -> MemberEventOut:
    """Suspend a member: every agreement in force it is party to is suspended at once, and
    its tokens are refused (`member_suspended`) from the next request on."""
    return MemberEventOut.of(
        exchange.members.suspend(caller, f"{member_class}/{code}", body.reason))


@router.post("/v1/members/{member_class}/{code}/resume", response_model=MemberEventOut)
def resume_member(member_class: OrgClass, code: OrgCode, body: ReasonIn, caller: Caller,
                  exchange: ExchangeDep) -> MemberEventOut:
    """Resume a suspended member, and the agreements its suspension suspended."""
    return MemberEventOut.of(
        exchange.members.resume(caller, f"{member_class}/{code}", body.reason))


@router.post("/v1/members/{member_class}/{code}/deregister", response_model=MemberEventOut)
def deregister_member(member_class: OrgClass, code: OrgCode, body: ReasonIn, caller: Caller,
                      exchange: ExchangeDep) -> MemberEventOut:
    """A member leaves: its tokens are refused and its agreements in force suspended; its
    history stays."""
    return MemberEventOut.of(
        exchange.members.deregister(caller, f"{member_class}/{code}", body.reason))


@router.post("/v1/systems", status_code=201, response_model=SystemOut)
def add_system(body: SystemIn, caller: Caller, exchange: ExchangeDep) -> SystemOut:
    """Register one of a member's systems (CLASS/CODE/system)."""
    return SystemOut(id=exchange.members.add_system(caller, body.id, body.title))


@router.post("/v1/schemes", status_code=201, response_model=SchemeOut)
def add_scheme(body: SchemeIn, caller: Caller, exchange: ExchangeDep) -> SchemeOut:
    """Register an identifier scheme: its format (a regular expression) and the member
    that issues it, which names people by it."""
    return SchemeOut.of(exchange.members.add_scheme(
        caller, Scheme(body.code, body.name, body.issuer, body.pattern)))


@router.get("/v1/schemes", response_model=list[SchemeOut])
def list_schemes(caller: Caller, exchange: ExchangeDep) -> list[SchemeOut]:
    return [SchemeOut.of(s) for s in exchange.members.schemes(caller)]
