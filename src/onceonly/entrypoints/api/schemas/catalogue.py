"""The catalogue: organisations, their datasets and fields, and the transforms."""

from __future__ import annotations

from pydantic import BaseModel

from onceonly.entrypoints.api.schemas.datasets import DatasetOut
from onceonly.services.catalogue import Catalogue


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
            datasets=[DatasetOut.of(d, catalogue.versions.get(d.id, ()))
                      for d in catalogue.datasets],
            transforms=[TransformOut(name=t.name, derived=t.derived, description=t.description)
                        for t in catalogue.transforms],
        )
