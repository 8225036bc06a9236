"""Minimisation transforms: how a stored field becomes what a consumer may see.

A field is granted as is, masked, or as a derived answer (``income_band`` instead of the
income). Adding a transform is one decorated function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from onceonly.domain.catalogue import FieldType
from onceonly.domain.errors import invalid

TransformFn = Callable[[Any, date], Any]


class Grant(Protocol):
    """A field as agreed (agreements.FieldGrant): named here by shape, since agreements
    check their grants against this module."""

    @property
    def name(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def transform(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Transform:
    name: str
    accepts: frozenset[FieldType] | None  # None: any type
    output: FieldType | None  # None: same type as the source field
    derived: bool  # the result is a derived answer, not the stored value
    apply: TransformFn
    description: str


TRANSFORMS: dict[str, Transform] = {}


def transform(
    name: str,
    *,
    accepts: set[FieldType] | None,
    output: FieldType | None,
    derived: bool = True,
) -> Callable[[TransformFn], TransformFn]:
    def register(fn: TransformFn) -> TransformFn:
        TRANSFORMS[name] = Transform(
            name=name,
            accepts=frozenset(accepts) if accepts is not None else None,
            output=output,
            derived=derived,
            apply=fn,
            description=(fn.__doc__ or "").strip(),
        )
        return fn

    return register


def get_transform(name: str) -> Transform:
    try:
        return TRANSFORMS[name]
    except KeyError:
        raise invalid(
            "unknown_transform",
            f"no transform named {name!r}; known: {', '.join(sorted(TRANSFORMS))}",
        ) from None


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@transform("as_is", accepts=None, output=None, derived=False)
def as_is(value: Any, today: date) -> Any:
    """The stored value, unchanged."""
    return value


@transform("mask_last4", accepts={FieldType.STRING}, output=FieldType.STRING, derived=False)
def mask_last4(value: Any, today: date) -> Any:
    """All but the last four characters replaced by '*'."""
    if value is None:
        return None
    text = str(value)
    return "*" * max(len(text) - 4, 0) + text[-4:]


@transform("year_only", accepts={FieldType.DATE}, output=FieldType.INTEGER)
def year_only(value: Any, today: date) -> Any:
    """The year of a date, without month or day."""
    return None if value is None else _as_date(value).year


@transform("age_over_18", accepts={FieldType.DATE}, output=FieldType.BOOLEAN)
def age_over_18(value: Any, today: date) -> Any:
    """Whether a date of birth makes the person 18 or over today."""
    return None if value is None else _age_on(_as_date(value), today) >= 18


@transform("is_present", accepts=None, output=FieldType.BOOLEAN)
def is_present(value: Any, today: date) -> Any:
    """Whether the field holds a value (e.g. a date of death is recorded)."""
    return value not in (None, "", [])


# Upper bounds of the UK income tax bands (personal allowance, basic, higher).
_INCOME_BANDS = ((12_570, "0-12570"), (50_270, "12571-50270"), (125_140, "50271-125140"))


@transform("income_band", accepts={FieldType.INTEGER}, output=FieldType.STRING)
def income_band(value: Any, today: date) -> Any:
    """The tax band an annual income falls in, never the amount."""
    if value is None:
        return None
    amount = int(value)
    for upper, label in _INCOME_BANDS:
        if amount <= upper:
            return label
    return "125141+"


@transform("receives_universal_credit", accepts={FieldType.LIST}, output=FieldType.BOOLEAN)
def receives_universal_credit(value: Any, today: date) -> Any:
    """Whether Universal Credit is among the benefits in payment."""
    return "universal_credit" in (value or [])


# Conditions that must be notified to the licensing authority before driving.
_NOTIFIABLE_CONDITIONS = frozenset(
    {"epilepsy", "severe_visual_impairment", "narcolepsy", "dementia"}
)


@transform("fit_to_drive", accepts={FieldType.LIST}, output=FieldType.BOOLEAN)
def fit_to_drive(value: Any, today: date) -> Any:
    """No notifiable medical condition is recorded; the conditions themselves never leave."""
    return not (_NOTIFIABLE_CONDITIONS & set(value or []))


def minimise(grants: Iterable[Grant], record: Mapping[str, Any],
             today: date) -> dict[str, Any]:
    """What leaves the provider: each granted field computed from its source, as agreed."""
    return {g.name: TRANSFORMS[g.transform].apply(record[g.source], today) for g in grants}
