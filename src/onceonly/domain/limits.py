"""The use limits of an agreement, stated once: queries a day, uses in all, distinct people a
day; and whether a release is refused, with the words each refusal gives.

A release is counted first and the limits are checked on the counts it leaves (so of racing
releases exactly as many pass as the limits allow); a refused release is rolled back. Each
database follows this module: SQLite's adapter calls `release_refusal`, PostgreSQL's
statement is written from `LIMITS`, and one test runs both against `release_refusal`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from onceonly.domain.agreements import Agreement
from onceonly.domain.reasons import Reason


@dataclass(frozen=True, slots=True)
class Counts:
    """An agreement's counts with the release being decided counted in. None: not counted
    (the agreement sets no such limit)."""

    queries_today: int
    uses: int | None = None
    persons_today: int | None = None


@dataclass(frozen=True, slots=True)
class Limit:
    reason: Reason
    count: str  # the field of Counts it limits
    maximum: Callable[[Agreement], int | None]


# In the order they are checked, on every backend: the day's queries, the uses, the people.
LIMITS = (
    Limit(Reason.QUOTA_EXCEEDED, "queries_today", lambda a: a.max_queries_per_day),
    Limit(Reason.USES_EXHAUSTED, "uses", lambda a: a.max_uses),
    Limit(Reason.PERSON_LIMIT_REACHED, "persons_today", lambda a: a.max_persons_per_day),
)


def counts_uses(agreement: Agreement) -> bool:
    return agreement.max_uses is not None


def counts_persons(agreement: Agreement, person_key: str | None) -> bool:
    return agreement.max_persons_per_day is not None and person_key is not None


def limit_reached(agreement: Agreement, counts: Counts) -> Reason | None:
    """The first limit the counts go past, or None."""
    for limit in LIMITS:
        maximum, count = limit.maximum(agreement), getattr(counts, limit.count)
        if maximum is not None and count is not None and count > maximum:
            return limit.reason
    return None


def release_refusal(officer_suspended: bool, agreement: Agreement, counts: Counts
                    ) -> Reason | None:
    """Why a release is refused at the moment it is counted, or None: an officer suspended
    from the provider's data first, then the limits."""
    if officer_suspended:
        return Reason.OFFICER_SUSPENDED
    return limit_reached(agreement, counts)


def quota_spent(agreement: Agreement, queries_today: int) -> bool:
    """Before counting: the day's queries are spent already (the decision refuses early)."""
    return queries_today >= agreement.max_queries_per_day


def refusal_detail(reason: Reason, agreement: Agreement) -> str:
    """What a caller refused at the release is told."""
    if reason is Reason.OFFICER_SUSPENDED:
        return (f"this officer is suspended from {agreement.provider_id}'s data until its "
                "guardian has reviewed an anomaly alert")
    if reason is Reason.USES_EXHAUSTED:
        return f"the agreement allows {agreement.max_uses} uses in all, and they are spent"
    if reason is Reason.PERSON_LIMIT_REACHED:
        return f"the agreement allows {agreement.max_persons_per_day} different people a day"
    return f"the agreement allows {agreement.max_queries_per_day} queries a day"
