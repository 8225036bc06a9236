"""A declaration's entries as the use cases take them (a dataset's publication, an
Article 9 condition), and what a published dataset differs in from its entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from onceonly.domain.catalogue import (
    Dataset,
    FieldSpec,
    FieldType,
    Sensitivity,
    SourceLabel,
)
from onceonly.domain.special_category import ProcessingCondition
from onceonly.services.datasets import Publication


def publication_of(dataset: Mapping[str, Any]) -> Publication:
    return Publication(
        system_id=dataset["system"], title=dataset["title"],
        subject_scheme=dataset["subject_scheme"],
        fields=tuple(FieldSpec(f["name"], FieldType(f["type"]), Sensitivity(f["sensitivity"]),
                               SourceLabel(f["source"]), f.get("description", ""), f["label"],
                               f.get("label_cy", ""), f.get("description_cy", ""))
                     for f in dataset["fields"]),
        connector=dict(dataset["connector"]), offers=tuple(dataset.get("offers") or ()),
        event_types=tuple(dataset.get("event_types") or ()))


def condition_of(value: str | None) -> ProcessingCondition | None:
    return None if value is None else ProcessingCondition(value)


def dataset_changes(current: Dataset | None, wanted: Publication,
                    connector: Mapping[str, Any] | None) -> list[str]:
    """The parts of a published dataset that the file describes otherwise."""
    if current is None:
        return []
    event_type = wanted.event_types[0] if wanted.event_types else None
    differs = {
        "title": current.title != wanted.title,
        "subject scheme": current.subject_scheme != wanted.subject_scheme,
        "fields": tuple(current.fields) != wanted.fields,
        "offers": tuple(current.offers) != wanted.offers,
        "event type": current.event_type != event_type,
        "connector": dict(connector or {}) != dict(wanted.connector),
    }
    return [part for part, changed in differs.items() if changed]
