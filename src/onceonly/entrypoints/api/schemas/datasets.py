"""Publishing a dataset: its description as a provider's guardian sends it (over the API,
or in a YAML or JSON file to `onceonly dataset publish`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictStr

from onceonly.domain.catalogue import (
    MAX_FIELDS,
    Dataset,
    DatasetVersion,
    FieldSpec,
    FieldType,
    Sensitivity,
    SourceLabel,
)
from onceonly.entrypoints.api.schemas.common import (
    DatasetId,
    FieldName,
    Strict,
    SubjectIn,
    Text,
)
from onceonly.services.datasets import Publication, WouldRelease

Short = Annotated[Text, Field(max_length=200)]
Long = Annotated[Text, Field(max_length=2000)]


class FieldIn(Strict):
    name: FieldName
    type: FieldType
    sensitivity: Sensitivity
    source: SourceLabel = Field(description="how the provider knows the value")
    label: Short = Field(description="the field's human name")
    description: Long = ""
    label_cy: Short = Field("", description="the field's human name in Welsh")
    description_cy: Long = Field("", description="its description in Welsh")


class LifeEventsIn(Strict):
    """Present for a register of life events (tell us once)."""

    event_types: list[StrictStr] = Field(min_length=1, max_length=8,
                                         description="the event types it emits")


class ConnectorIn(Strict):
    model_config = {"extra": "allow"}  # the rest belongs to the connector of its kind
    kind: Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$",
                                     description="sql; others as the exchange adds them")]


class PublicationIn(Strict):
    system: DatasetId = Field(description="the provider's system it is published under; "
                              "it is the dataset's id")
    title: Short
    subject_scheme: Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_-]{1,31}$")]
    fields: list[FieldIn] = Field(min_length=1, max_length=MAX_FIELDS)
    offers: list[StrictStr] = Field(default_factory=list, max_length=32, description=(
        "derived answers offered on it (transform names of the catalogue)"))
    life_events: LifeEventsIn | None = None
    connector: ConnectorIn
    openapi: dict[str, Any] | None = Field(None, description=(
        "the provider's own OpenAPI document, for an HTTP connector: the connector is "
        "checked against it (422 `connector_contract_mismatch`, naming the field)"))

    def publication(self) -> Publication:
        events = self.life_events
        return Publication(
            system_id=self.system, title=self.title, subject_scheme=self.subject_scheme,
            fields=tuple(FieldSpec(f.name, f.type, f.sensitivity, f.source, f.description,
                                   f.label, f.label_cy, f.description_cy)
                         for f in self.fields),
            connector=self.connector.model_dump(),
            offers=tuple(self.offers),
            event_types=tuple(events.event_types) if events else (),
            openapi=self.openapi)


class FieldOut(BaseModel):
    name: str
    type: str
    sensitivity: str
    source: str
    label: str
    description: str
    label_cy: str = ""
    description_cy: str = ""


class VersionOut(BaseModel):
    version: int
    title: str
    fields: list[str]
    offers: list[str]
    published_at: datetime | None = Field(description="null: published before versions "
                                          "were kept")
    published_by: str

    @classmethod
    def of(cls, v: DatasetVersion) -> VersionOut:
        return cls(version=v.version, title=v.title, fields=list(v.fields),
                   offers=list(v.offers), published_at=v.published_at,
                   published_by=v.published_by)


class DatasetOut(BaseModel):
    id: str
    provider: str
    title: str
    subject_scheme: str
    version: int
    fields: list[FieldOut]
    offers: list[str]
    event_type: str | None
    versions: list[VersionOut] = Field(default_factory=list)

    @classmethod
    def of(cls, d: Dataset, versions: Any = ()) -> DatasetOut:
        return cls(id=d.id, provider=d.provider_id, title=d.title,
                   subject_scheme=d.subject_scheme, version=d.version,
                   fields=[FieldOut(name=f.name, type=f.type.value,
                                    sensitivity=f.sensitivity.value, source=f.source.value,
                                    label=f.label, description=f.description,
                                    label_cy=f.label_cy, description_cy=f.description_cy)
                           for f in d.fields],
                   offers=list(d.offers), event_type=d.event_type,
                   versions=[VersionOut.of(v) for v in versions])


class DatasetTestIn(Strict):
    subject: SubjectIn = Field(description="the person, in the provider's own scheme or one "
                               "the exchange links to it")


class WouldReleaseOut(BaseModel):
    agreement_id: int
    consumer: str
    purpose: str
    released: dict[str, Any] = Field(description="what the agreement would release from "
                                     "the record read, minimised as a query's answer is")


class DatasetTestOut(BaseModel):
    dataset: str
    agreements: list[WouldReleaseOut] = Field(description="one an agreement in force on the "
                                              "dataset; empty: none is")

    @classmethod
    def of(cls, dataset_id: str, would: list[WouldRelease]) -> DatasetTestOut:
        return cls(dataset=dataset_id, agreements=[
            WouldReleaseOut(agreement_id=each.agreement.id,
                            consumer=each.agreement.consumer_id,
                            purpose=each.agreement.purpose_code, released=each.released)
            for each in would])
