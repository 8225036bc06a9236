"""The public register of data-sharing agreements over HTTP, for anyone to read."""

from __future__ import annotations

from fastapi import APIRouter

from onceonly.entrypoints.api.caller import ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas.register import RegisteredAgreementOut, RegisterOut

router = APIRouter(tags=["register"], route_class=JsonRoute)


@router.get("/v1/register", response_model=RegisterOut)
def register(exchange: ExchangeDep) -> RegisterOut:
    """Every data-sharing agreement in force (Digital Economy Act 2017 Part 5): parties,
    purpose, legal basis, fields by label in English and Welsh, and dates. No personal
    data."""
    entries = exchange.register.in_force()
    return RegisterOut(published_at=exchange.register.now(),
                       agreements=[RegisteredAgreementOut.of(e) for e in entries])
