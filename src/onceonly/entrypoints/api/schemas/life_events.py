"""Life events (tell us once): the CloudEvents reported, the types taken, and who was told."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr

from onceonly.domain.life_events import EVENT_TYPES, SPEC_VERSION, SUBJECT, Report, Reporter
from onceonly.entrypoints.api.schemas.common import AsWhole, Strict, Text
from onceonly.entrypoints.api.schemas.delivery import DeliveryOut
from onceonly.services.life_events import ReportStatus

Short = Annotated[Text, Field(min_length=1, max_length=200)]

Value = (Annotated[Text, Field(max_length=200)] | StrictBool | Annotated[StrictInt, AsWhole]
         | None)

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
    def of(cls, status: ReportStatus) -> ReportOut:
        r: Report = status.report
        return cls(report_id=r.id, type=r.type, source=r.source, event_id=r.event_id,
                   received_at=r.received_at, already_received=status.already_received,
                   told=[DeliveryOut.of(d) for d in status.deliveries],
                   not_told=[NotToldOut(organisation=o, reason=why) for o, why in r.not_told])


class EventTypeOut(BaseModel):
    type: str
    title: str
    reported_by: str
    data_schema: dict[str, Any] = Field(description="JSON Schema (2020-12) of the data")


def event_data_schemas() -> dict[str, dict[str, Any]]:
    """Each event type's `data` JSON Schema, as an OpenAPI component named after the type."""
    return {name: {k: v for k, v in kind.schema().items() if k != "$schema"}
            for name, kind in EVENT_TYPES.items()}


def body_of(reporter: Reporter) -> dict[str, Any]:
    """The events route's body as the intake checks it: one of the types this reporter
    reports, with that type's `data` (in addition to the envelope's own schema)."""
    return {"requestBody": {"content": {"application/json": {"schema": {"oneOf": [
        {"title": kind.title,
         "properties": {"type": {"const": name},
                        "data": {"$ref": f"#/components/schemas/{name}"}},
         "required": ["type", "data"]}
        for name, kind in EVENT_TYPES.items() if kind.reported_by is reporter]}}}}}
