"""People as an organisation names them: identifiers from the person index, for trying
queries against a demo world."""

from __future__ import annotations

from onceonly.domain.errors import not_found
from onceonly.services.ports.people import PersonIdentifiers


class PeopleService:
    def __init__(self, index: PersonIdentifiers) -> None:
        self.index = index

    def identifiers_named_by(self, org_id: str, limit: int) -> list[tuple[str, str]]:
        """Identifiers of people under the schemes `org_id` names them by."""
        schemes = self.index.schemes_of(org_id)
        if not schemes:
            raise not_found("no_identifiers", f"{org_id} names nobody by an identifier here")
        return self.index.identifiers(schemes, limit)
