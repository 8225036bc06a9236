"""What the API's bodies and parameters share: strict objects, and the text, number and id
types each feature's schemas are made of."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr

from onceonly.domain.organisations import ORG_ID_PATTERN


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Last in a StrictInt's annotations (after its constraints, or the document loses them): a
# JSON number with no fractional part (79.0) is the integer it equals, as JSON Schema's
# `integer` says; strings and booleans stay refused.
AsWhole = BeforeValidator(_whole)

FieldName = Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]

# Free text: anything printable; a NUL byte is refused (PostgreSQL cannot store one).
Text = Annotated[StrictStr, Field(pattern=r"^[^\x00]*$")]


def _space_class() -> str:
    """The characters Python's str.strip() removes, as a regular-expression class body."""
    spaces = [c for c in range(0x110000) if chr(c).isspace()]
    runs: list[tuple[int, int]] = []
    for c in spaces:
        if runs and runs[-1][1] == c - 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in runs)


# What someone must say (a reason, what is wrong): the domain refuses it blank
# (`reason_required`, audited), so the document asks for one character that is not a space.
Said = Annotated[Text, Field(min_length=1, max_length=2000, json_schema_extra={
    "pattern": f"^[^\\x00]*[^\\x00{_space_class()}][^\\x00]*$"})]

MAX_AGREEMENT_ID = 2**31 - 1  # agreement ids are positive 32-bit integers in the database

DatasetId = Annotated[StrictStr, Field(pattern=r"^[A-Z]{2,8}/[A-Z0-9_-]{1,32}/[a-z0-9_-]{1,32}$",
                                       examples=["GOV/HMRC/income"])]

PurposeCode = Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9-]{1,63}$")]

MAX_LIST_ITEMS = 64

IdPath = Annotated[int, Path(gt=0, le=MAX_AGREEMENT_ID)]  # an id the database numbered

UuidPath = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]

OrgId = Annotated[StrictStr, Field(pattern=ORG_ID_PATTERN, description="e.g. COM/ACME")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubjectIn(Strict):
    scheme: Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_-]{1,31}$",
                                       examples=["nino"])]
    value: Annotated[StrictStr, Field(min_length=1, max_length=64,
                                      pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./-]*$",
                                      examples=["QQ123456C"])]


class ReasonIn(Strict):
    reason: Said
