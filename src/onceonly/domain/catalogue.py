"""The catalogue: what each provider publishes. Descriptions only, never records."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from onceonly.domain.errors import invalid

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_FIELDS = 200


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
    label: str = ""  # the human name, as the catalogue shows it
    label_cy: str = ""  # the same in Welsh; empty: not yet translated
    description_cy: str = ""

    def label_in(self, language: str) -> str:
        """The field's human name in `language` ("en" or "cy"): the Welsh where the
        catalogue has it, else the English, else the field's own name."""
        welsh = self.label_cy if language == "cy" else ""
        return welsh or self.label or self.name

    def description_in(self, language: str) -> str:
        welsh = self.description_cy if language == "cy" else ""
        return welsh or self.description


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
    offers: tuple[str, ...] = ()  # the derived answers (transforms) offered on it
    version: int = 1

    def field(self, name: str) -> FieldSpec | None:
        for spec in self.fields:
            if spec.name == name:
                return spec
        return None


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    """One published version of a dataset, as the catalogue lists it."""

    version: int
    title: str
    fields: tuple[str, ...]
    offers: tuple[str, ...]
    published_at: datetime | None  # None: published before datasets had versions
    published_by: str


def check_fields(fields: Sequence[FieldSpec]) -> None:
    """A dataset's fields: at least one, at most MAX_FIELDS, each named once, by a name an
    agreement can grant."""
    if not fields:
        raise invalid("no_fields", "a dataset must have at least one field")
    if len(fields) > MAX_FIELDS:
        raise invalid("too_many_fields", f"a dataset has at most {MAX_FIELDS} fields")
    seen: set[str] = set()
    for spec in fields:
        if not FIELD_NAME.fullmatch(spec.name):
            raise invalid("invalid_field_name", f"{spec.name!r} is not a valid field name: "
                          "lower case letters, digits and _, starting with a letter")
        if spec.name in seen:
            raise invalid("duplicate_field", f"field {spec.name!r} is named twice")
        seen.add(spec.name)


def changed_fields(current: Dataset, fields: Sequence[FieldSpec]) -> tuple[str, ...]:
    """The fields of `current` that a new version with `fields` removes or retypes."""
    types = {spec.name: spec.type for spec in fields}
    return tuple(spec.name for spec in current.fields if types.get(spec.name) != spec.type)
