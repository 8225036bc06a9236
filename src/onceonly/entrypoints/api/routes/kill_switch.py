"""The kill switch over HTTP: a provider's guardian suspends every agreement of one consumer
with their organisation in one action, and restores them."""

from __future__ import annotations

from fastapi import APIRouter

from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas.common import IdPath, ReasonIn
from onceonly.entrypoints.api.schemas.kill_switch import KillSwitchIn, KillSwitchOut

router = APIRouter(tags=["constraints"], route_class=JsonRoute)


@router.post("/v1/kill-switches", status_code=201, response_model=KillSwitchOut)
def pull_kill_switch(body: KillSwitchIn, caller: Caller, exchange: ExchangeDep) -> KillSwitchOut:
    """Suspend every active agreement of one consumer with the caller's organisation, in
    one action (a guardian of the provider, with a reason)."""
    return KillSwitchOut.of(exchange.kill_switch.pull(caller, body.consumer, body.reason))


@router.get("/v1/kill-switches", response_model=list[KillSwitchOut])
def list_kill_switches(caller: Caller, exchange: ExchangeDep) -> list[KillSwitchOut]:
    return [KillSwitchOut.of(s) for s in exchange.kill_switch.list(caller)]


@router.post("/v1/kill-switches/{switch_id}/restore", response_model=KillSwitchOut)
def restore_kill_switch(switch_id: IdPath, body: ReasonIn, caller: Caller,
                        exchange: ExchangeDep) -> KillSwitchOut:
    """Resume the agreements the switch suspended (those revoked since stay revoked)."""
    return KillSwitchOut.of(exchange.kill_switch.restore(caller, switch_id, body.reason))
