"""Loading the person index in bulk: a new world's people, each linked under every
identifier they hold (the demo's synthetic population)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Protocol


class Links(Protocol):
    def add(self, values: Mapping[str, object]) -> None:
        """One link: `scheme`, `value` and the `person_key` it names."""
        ...

    def flush(self) -> None:
        """Write the links added so far, in one transaction."""
        ...


class PersonIndexLoad(Protocol):
    def loading(self) -> AbstractContextManager[Links]:
        """Links to add; the index is whole again when the block ends."""
        ...
