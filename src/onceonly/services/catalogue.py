"""The catalogue use case: what the exchange offers, for anyone to read: the organisations,
their datasets with each field's type, sensitivity and source, and the transforms an
agreement may apply to a field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from onceonly.domain.catalogue import Dataset, DatasetVersion
from onceonly.domain.organisations import Organisation
from onceonly.domain.transforms import TRANSFORMS, Transform
from onceonly.services.ports.catalogue import CatalogueUnitOfWork
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Catalogue:
    organisations: tuple[Organisation, ...]
    datasets: tuple[Dataset, ...]
    transforms: tuple[Transform, ...]
    versions: Mapping[str, tuple[DatasetVersion, ...]] = field(default_factory=dict)


class CatalogueService:
    def __init__(self, uows: UnitOfWorkFactory[CatalogueUnitOfWork]) -> None:
        self.uows = uows

    def read(self) -> Catalogue:
        """The whole catalogue, read in one transaction. Public: it holds no person data."""
        with self.uows() as uow:
            organisations = tuple(uow.catalogue.organisations())
            datasets = tuple(uow.catalogue.datasets())
            versions = {key: tuple(found) for key, found in uow.catalogue.versions().items()}
        return Catalogue(organisations, datasets, tuple(TRANSFORMS.values()), versions)
