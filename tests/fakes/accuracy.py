"""Accuracy challenges (a decision is written only over the state it was read in), the
corrections recorded, and the inbox of correction notices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from onceonly.domain.accuracy import Challenge, ChallengeStatus
from tests.fakes.data import FakeData

_OPEN = (ChallengeStatus.OPEN, ChallengeStatus.CORRECTING)


class FakeChallenges:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def add(self, challenge: Challenge) -> Challenge:
        stored = replace(challenge, id=self.data.next_id("challenges"))
        self.data.challenges[stored.id] = stored  # type: ignore[index]
        return stored

    def get(self, challenge_id: int) -> Challenge | None:
        return self.data.challenges.get(challenge_id)

    def open_for(self, person_key: str, dataset_id: str, field: str) -> Challenge | None:
        return next((c for c in self.data.challenges.values()
                     if (c.person_key, c.dataset_id, c.field) == (person_key, dataset_id, field)
                     and c.status in _OPEN), None)

    def save(self, challenge: Challenge, was: Challenge) -> bool:
        assert challenge.id is not None
        stored = self.data.challenges[challenge.id]
        if (stored.status, stored.decided_at) != (was.status, was.decided_at):
            return False
        self.data.challenges[challenge.id] = challenge
        return True

    def of_person(self, person_key: str) -> list[Challenge]:
        return [c for _, c in sorted(self.data.challenges.items(), reverse=True)
                if c.person_key == person_key]

    def for_provider(self, provider_id: str) -> list[Challenge]:
        return [c for _, c in sorted(self.data.challenges.items(), reverse=True)
                if c.provider_id == provider_id]

    def add_correction(self, challenge_id: int, by: str, at: datetime,
                       values_hash: str) -> int:
        correction_id = self.data.next_id("corrections")
        self.data.corrections[correction_id] = challenge_id
        return correction_id

    def add_notice(self, correction_id: int, consumer_id: str, agreement_id: int,
                   person_key: str, field: str, release_ids: Sequence[str],
                   at: datetime) -> int:
        notice_id = self.data.next_id("notices")
        challenge = self.data.challenges[self.data.corrections[correction_id]]
        self.data.notices[notice_id] = {
            "id": notice_id, "consumer_id": consumer_id, "correction_id": correction_id,
            "agreement_id": agreement_id, "field": field, "release_ids": list(release_ids),
            "created_at": at, "dataset_id": challenge.dataset_id,
            "source_field": challenge.field}
        return notice_id

    def notices_for(self, consumer_id: str, limit: int) -> list[dict[str, Any]]:
        mine = [{k: v for k, v in n.items() if k != "consumer_id"}
                for _, n in sorted(self.data.notices.items(), reverse=True)
                if n["consumer_id"] == consumer_id]
        return mine[:limit]
