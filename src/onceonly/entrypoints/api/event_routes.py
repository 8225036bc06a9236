"""Tell us once over HTTP: report a life event (a CloudEvent 1.0), follow who was told,
and take notifications from an inbox or at a webhook."""

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr

from onceonly.bootstrap import Exchange
from onceonly.domain.life_events import (
    EVENT_TYPES,
    SPEC_VERSION,
    SUBJECT,
    Delivery,
    Report,
    Reporter,
)
from onceonly.domain.organisations import ORG_ID_PATTERN
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas import AsWhole, Strict, Text
from onceonly.services.life_events import ReportStatus

Short = Annotated[Text, Field(min_length=1, max_length=200)]
Value = (Annotated[Text, Field(max_length=200)] | StrictBool | Annotated[StrictInt, AsWhole]
         | None)
OrgId = Annotated[StrictStr, Field(pattern=ORG_ID_PATTERN, max_length=64)]
Uuid = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]
# The envelope's attributes as the intake check (domain/life_events.py: check_event) takes
# them; the document says so, the check refuses with its own codes (audited).
SpecVersion = Annotated[StrictStr, Field(max_length=8, json_schema_extra={"const": SPEC_VERSION})]
Person = Annotated[StrictStr, Field(max_length=100, examples=["grn:RN1950000042"],
                                    json_schema_extra={"pattern": SUBJECT.pattern})]


class CloudEventIn(Strict):
    """A structured-mode CloudEvent 1.0; `data` is checked against the type's schema (see
    GET /v1/event-types). `informant`: who reported it (`scheme:identifier`), to see its
    status."""

    specversion: SpecVersion
    id: Short
    source: Short
    type: Annotated[StrictStr, Field(max_length=100,
                                     examples=["gov.onceonly.death.registered"])]
    subject: Person
    time: Annotated[StrictStr, Field(max_length=40)] | None = None
    datacontenttype: Annotated[StrictStr, Field(
        max_length=100, json_schema_extra={"const": "application/json"})] | None = None
    informant: Person | None = None
    data: Annotated[dict[Annotated[StrictStr, Field(max_length=64)], Value],
                    Field(max_length=32)]


class OwnEventIn(Strict):
    """A citizen's own change: the exchange fills in `source` and `subject` (you)."""

    specversion: SpecVersion = SPEC_VERSION
    id: Short | None = Field(default=None, description="your id for it: sending the same "
                             "event again with the same id is answered as already received")
    type: Annotated[StrictStr, Field(max_length=100, examples=["gov.onceonly.name.changed"])]
    subject: Person | None = None
    time: Annotated[StrictStr, Field(max_length=40)] | None = None
    data: Annotated[dict[Annotated[StrictStr, Field(max_length=64)], Value],
                    Field(max_length=32)]


class DeliveryOut(BaseModel):
    delivery_id: str
    organisation: str
    status: str = Field(description="pending, delivered or failed (dead-lettered)")
    mode: str = Field(description="webhook or inbox")
    attempts: int
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, d: Delivery) -> "DeliveryOut":
        return cls(delivery_id=d.id, organisation=d.receiver_id, status=d.status.value,
                   mode=d.mode, attempts=d.attempts, created_at=d.created_at,
                   delivered_at=d.delivered_at,
                   next_attempt_at=d.next_attempt_at if d.status.value == "pending" else None,
                   last_error=d.last_error)


class NotToldOut(BaseModel):
    organisation: str
    reason: str = Field(description="no_record (holds nothing on the person) or not_chosen")


class ReportOut(BaseModel):
    report_id: str
    type: str
    source: str
    event_id: str
    received_at: datetime
    already_received: bool = Field(description="true when this event had been received before")
    told: list[DeliveryOut]
    not_told: list[NotToldOut]

    @classmethod
    def of(cls, status: ReportStatus) -> "ReportOut":
        r: Report = status.report
        return cls(report_id=r.id, type=r.type, source=r.source, event_id=r.event_id,
                   received_at=r.received_at, already_received=status.already_received,
                   told=[DeliveryOut.of(d) for d in status.deliveries],
                   not_told=[NotToldOut(organisation=o, reason=why) for o, why in r.not_told])


class InboxItemOut(BaseModel):
    delivery_id: str
    attempts: int
    event: dict[str, Any] = Field(description="the notification, a CloudEvent 1.0")


class EndpointIn(Strict):
    url: Annotated[StrictStr, Field(min_length=8, max_length=2000,
                                    examples=["https://notify.dvla.example/onceonly"])]


class EventTypeOut(BaseModel):
    type: str
    title: str
    reported_by: str
    data_schema: dict[str, Any] = Field(description="JSON Schema (2020-12) of the data")


def event_data_schemas() -> dict[str, dict[str, Any]]:
    """Each event type's `data` JSON Schema, as an OpenAPI component named after the type."""
    return {name: {k: v for k, v in kind.schema().items() if k != "$schema"}
            for name, kind in EVENT_TYPES.items()}


def _body_of(reporter: Reporter) -> dict[str, Any]:
    """The events route's body as the intake checks it: one of the types this reporter
    reports, with that type's `data` (in addition to the envelope's own schema)."""
    return {"requestBody": {"content": {"application/json": {"schema": {"oneOf": [
        {"title": kind.title,
         "properties": {"type": {"const": name},
                        "data": {"$ref": f"#/components/schemas/{name}"}},
         "required": ["type", "data"]}
        for name, kind in EVENT_TYPES.items() if kind.reported_by is reporter]}}}}}


def event_router(exchange: Exchange, caller_type: Any) -> APIRouter:
    router = APIRouter(tags=["tell us once"], route_class=JsonRoute)
    service = exchange.life_events

    def answer(status: ReportStatus, response: Response) -> ReportOut:
        response.status_code = 200 if status.already_received else 202
        return ReportOut.of(status)

    @router.get("/v1/event-types", response_model=list[EventTypeOut])
    def event_types(caller: caller_type) -> list[dict[str, Any]]:
        """The life events the exchange takes, with the JSON Schema of each one's data."""
        return service.event_types()

    @router.post("/v1/events", status_code=202, response_model=ReportOut,
                 responses={200: {"model": ReportOut, "description": "already received"}},
                 openapi_extra=_body_of(Reporter.REGISTRAR))
    def report(event: CloudEventIn, caller: caller_type, response: Response,
               tell: Annotated[list[OrgId] | None, Query(max_length=20)] = None) -> ReportOut:
        """Report a death, birth or marriage (a registrar: an officer of the register's
        organisation). `tell`: the organisations the informant chose, within those the law
        requires; left out, every subscriber is told."""
        return answer(service.report(caller, event.model_dump(exclude_none=True), tell),
                      response)

    @router.post("/v1/me/events", status_code=202, response_model=ReportOut,
                 responses={200: {"model": ReportOut, "description": "already received"}},
                 openapi_extra=_body_of(Reporter.CITIZEN))
    def report_own(event: OwnEventIn, caller: caller_type, response: Response,
                   tell: Annotated[list[OrgId] | None, Query(max_length=20)] = None
                   ) -> ReportOut:
        """Report your own change of name or address, once, for every organisation told."""
        return answer(service.report_own(caller, event.model_dump(exclude_none=True), tell),
                      response)

    @router.get("/v1/reports/{report_id}", response_model=ReportOut)
    def report_status(report_id: Uuid, caller: caller_type) -> ReportOut:
        """Who was told, and how each delivery stands (the reporting organisation, the
        person, or the informant)."""
        return ReportOut.of(service.status(caller, report_id))

    @router.get("/v1/me/reports", response_model=list[ReportOut])
    def my_reports(caller: caller_type) -> list[ReportOut]:
        """Reports about you or made by you as informant, with every organisation told."""
        return [ReportOut.of(s) for s in service.my_reports(caller)]

    @router.get("/v1/inbox", response_model=list[InboxItemOut])
    def inbox(caller: caller_type,
              limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[InboxItemOut]:
        """Notifications waiting for your organisation; acknowledge each once applied."""
        return [InboxItemOut(delivery_id=d.id, attempts=d.attempts, event=json.loads(body))
                for d, body in service.inbox(caller, limit)]

    @router.post("/v1/inbox/{delivery_id}/ack", response_model=DeliveryOut)
    def acknowledge(delivery_id: Uuid, caller: caller_type) -> DeliveryOut:
        return DeliveryOut.of(service.acknowledge(caller, delivery_id))

    @router.get("/v1/dead-letters", response_model=list[DeliveryOut])
    def dead_letters(caller: caller_type,
                     limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[DeliveryOut]:
        """Deliveries to your organisation that failed every attempt (a guardian)."""
        return [DeliveryOut.of(d) for d in service.dead_letters(caller, limit)]

    @router.post("/v1/deliveries/{delivery_id}/redeliver", response_model=DeliveryOut)
    def redeliver(delivery_id: Uuid, caller: caller_type) -> DeliveryOut:
        """Try a dead-lettered delivery again (a guardian of the receiving organisation)."""
        return DeliveryOut.of(service.redeliver(caller, delivery_id))

    @router.put("/v1/notification-endpoint", status_code=204)
    def set_endpoint(body: EndpointIn, caller: caller_type) -> Response:
        """Take notifications at this webhook (a guardian of the organisation)."""
        service.set_endpoint(caller, body.url)
        return Response(status_code=204)

    @router.delete("/v1/notification-endpoint", status_code=204)
    def clear_endpoint(caller: caller_type) -> Response:
        """Take notifications from the inbox instead."""
        service.set_endpoint(caller, None)
        return Response(status_code=204)

    return router
