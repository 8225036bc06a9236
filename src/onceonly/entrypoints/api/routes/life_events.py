"""Tell us once over HTTP: report a life event (a CloudEvent 1.0) and follow who was told."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import Field, StrictStr

from onceonly.domain.life_events import Reporter
from onceonly.domain.organisations import ORG_ID_PATTERN
from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas.common import UuidPath
from onceonly.entrypoints.api.schemas.life_events import (
    CloudEventIn,
    EventTypeOut,
    OwnEventIn,
    ReportOut,
    body_of,
)
from onceonly.services.life_events import ReportStatus

Told = Annotated[list[Annotated[StrictStr, Field(pattern=ORG_ID_PATTERN, max_length=64)]] | None,
                 Query(max_length=20)]

router = APIRouter(tags=["tell us once"], route_class=JsonRoute)


def _answer(status: ReportStatus, response: Response) -> ReportOut:
    response.status_code = 200 if status.already_received else 202
    return ReportOut.of(status)


@router.get("/v1/event-types", response_model=list[EventTypeOut])
def event_types(caller: Caller, exchange: ExchangeDep) -> list[dict[str, Any]]:
    """The life events the exchange takes, with the JSON Schema of each one's data."""
    return exchange.life_events.event_types()


@router.post("/v1/events", status_code=202, response_model=ReportOut,
             responses={200: {"model": ReportOut, "description": "already received"}},
             openapi_extra=body_of(Reporter.REGISTRAR))
def report(event: CloudEventIn, caller: Caller, exchange: ExchangeDep, response: Response,
           tell: Told = None) -> ReportOut:
    """Report a death, birth or marriage (a registrar: an officer of the register's
    organisation). `tell`: the organisations the informant chose, within those the law
    requires; left out, every subscriber is told."""
    return _answer(exchange.life_events.report(caller, event.model_dump(exclude_none=True),
                                                tell), response)


@router.post("/v1/me/events", status_code=202, response_model=ReportOut,
             responses={200: {"model": ReportOut, "description": "already received"}},
             openapi_extra=body_of(Reporter.CITIZEN))
def report_own(event: OwnEventIn, caller: Caller, exchange: ExchangeDep, response: Response,
               tell: Told = None) -> ReportOut:
    """Report your own change of name or address, once, for every organisation told."""
    return _answer(exchange.life_events.report_own(
        caller, event.model_dump(exclude_none=True), tell), response)


@router.get("/v1/reports/{report_id}", response_model=ReportOut)
def report_status(report_id: UuidPath, caller: Caller, exchange: ExchangeDep) -> ReportOut:
    """Who was told, and how each delivery stands (the reporting organisation, the
    person, or the informant)."""
    return ReportOut.of(exchange.life_events.status(caller, report_id))


@router.get("/v1/me/reports", response_model=list[ReportOut])
def my_reports(caller: Caller, exchange: ExchangeDep) -> list[ReportOut]:
    """Reports about you or made by you as informant, with every organisation told."""
    return [ReportOut.of(s) for s in exchange.life_events.my_reports(caller)]
