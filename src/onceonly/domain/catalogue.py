"""The catalogue: what each provider publishes. Descriptions only, never records."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Sensitivity(StrEnum):
    PUBLIC = "public"
    PERSONAL = "personal"
    SPECIAL = "special"  # special-category data (health, ...): the highest bar


class SourceLabel(StrEnum):
    VERIFIED = "verified"  # verified by the provider
    CITIZEN_SUPPLIED = "citizen-supplied"
    DERIVED = "derived"


class FieldType(StrEnum):
    STRING = "string"
    DATE = "date"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    LIST = "list"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: FieldType
    sensitivity: Sensitivity
    source: SourceLabel
    description: str = ""


@dataclass(frozen=True, slots=True)
class Dataset:
    """A provider's dataset. `subject_scheme` is the provider's own identifier for a person."""

    id: str  # e.g. GOV/HMRC/income
    provider_id: str
    title: str
    subject_scheme: str
    fields: tuple[FieldSpec, ...]
    # Set for a register of life events (tell us once): agreements on it are notifications.
    event_type: str | None = None

    def field(self, name: str) -> FieldSpec | None:
        for spec in self.fields:
            if spec.name == name:
                return spec
        return None
