"""The catalogue: organisations, their datasets and fields, and the transforms."""

from __future__ import annotations

from pydantic import BaseModel

from onceonly.entrypoints.api.schemas.datasets import VersionOut
from onceonly.services.catalogue import Catalogue


class FieldOut(BaseModel):
    name: str
    type: str
    sensitivity: str
    source: str
    label: str
    description: str


class DatasetOut(BaseModel):
    id: str
    provider: str
    title: str
    subject_scheme: str
    fields: list[FieldOut]
    version: int
    offers: list[str]
    versions: list[VersionOut]


class OrganisationOut(BaseModel):
    id: str
    name: str
    systems: list[str]


class TransformOut(BaseModel):
    name: str
    derived: bool
    description: str


class CatalogueOut(BaseModel):
    organisations: list[OrganisationOut]
    datasets: list[DatasetOut]
    transforms: list[TransformOut]

    @classmethod
    def of(cls, catalogue: Catalogue) -> CatalogueOut:
        return cls(
            organisations=[OrganisationOut(id=o.id, name=o.name, systems=list(o.systems))
                           for o in catalogue.organisations],
            datasets=[
                DatasetOut(
                    id=d.id, provider=d.provider_id, title=d.title,
                    subject_scheme=d.subject_scheme,
                    fields=[FieldOut(name=f.name, type=f.type.value,
                                     sensitivity=f.sensitivity.value, source=f.source.value,
                                     label=f.label, description=f.description)
                            for f in d.fields],
                    version=d.version, offers=list(d.offers),
                    versions=[VersionOut.of(v) for v in catalogue.versions.get(d.id, ())],
                )
                for d in catalogue.datasets
            ],
            transforms=[TransformOut(name=t.name, derived=t.derived, description=t.description)
                        for t in catalogue.transforms],
        )
