"""An agreement's recent activity as the anomaly detector keeps it between passes, with what
the rules count kept up to date as notes come and go.

`evaluate` reads the whole window on every pass, and the window holds the last hour of an
agreement's traffic: at hundreds of queries a second a pass cost as much as the queries
since the last one (BENCHMARKS.md section 14). Here a pass costs in proportion to its new
notes: each rule's count is kept (people by when each was last released to, each officer's
refusals and queries outside working hours by time, and for sequential identifiers each
step of one between an officer's consecutive identifiers), so that most passes show in
logarithmic time that no rule can fire. Only where a count reaches its threshold does the
pass ask `evaluate` over the whole window, which decides, so findings are `evaluate`'s own.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from onceonly.domain.anomaly import (
    Activity,
    Finding,
    RuleKind,
    Rules,
    evaluate,
    outside_working_hours,
)


def _at(event: Activity) -> datetime:
    return event.at


@dataclass(slots=True)
class _Officer:
    """One officer's notes in the window, as times (sorted): what their rules count."""

    notes: int = 0
    refused: list[datetime] = field(default_factory=list)
    off_hours: list[datetime] = field(default_factory=list)
    numbered: list[Activity] = field(default_factory=list)
    # When a step of one between consecutive identifiers ended (the later note's time):
    # a run of n identifiers has n - 1 of them in the window, so their count bounds it.
    steps: list[datetime] = field(default_factory=list)

    def add(self, event: Activity, off_hours: bool) -> None:
        self.notes += 1
        if event.refused:
            bisect.insort_right(self.refused, event.at)
        if off_hours:
            bisect.insort_right(self.off_hours, event.at)
        if event.number is None:
            return
        # As the window places it: after every note of the same time.
        where = bisect.bisect_right(self.numbered, event.at, key=_at)
        self.numbered.insert(where, event)
        # Every pair it now stands in; a pair it came between is left counted (a bound
        # may be loose, never short).
        if where > 0 and _one_apart(self.numbered[where - 1], event):
            bisect.insort_right(self.steps, event.at)
        if where + 1 < len(self.numbered) and _one_apart(event, self.numbered[where + 1]):
            bisect.insort_right(self.steps, self.numbered[where + 1].at)

    def drop_until(self, since: datetime, dropped: int) -> None:
        self.notes -= dropped
        for times in (self.refused, self.off_hours, self.steps):
            del times[:bisect.bisect_right(times, since)]
        del self.numbered[:bisect.bisect_right(self.numbered, since, key=_at)]

    def may_fire(self, rules: Rules, now: datetime) -> bool:
        """Whether any of the officer's rules could fire now: refusals and hours counted
        exactly, a run of identifiers by its bound."""
        storm, late, walk = (rules[RuleKind.REFUSAL_STORM], rules[RuleKind.OFF_HOURS],
                             rules[RuleKind.SEQUENTIAL_IDS])
        return (_after(self.refused, now - storm.window) >= storm.threshold
                or _after(self.off_hours, now - late.window) >= late.threshold
                or _after(self.steps, now - walk.window) + 1 >= walk.threshold)


class ActivityWindow:
    """An agreement's activity after `since`, oldest first (as `evaluate` takes it)."""

    def __init__(self, since: datetime, events: Iterable[Activity] = ()) -> None:
        self.since = since
        self.events: list[Activity] = []
        self._officers: dict[str, _Officer] = {}
        self._last_served: dict[str, datetime] = {}  # person -> their latest release
        self._served: list[tuple[datetime, str]] = []  # the same, by time
        self.add(events)

    def add(self, events: Iterable[Activity]) -> None:
        """New notes, in any order (commits may come out of order)."""
        for event in events:
            bisect.insort_right(self.events, event, key=_at)
            officer = self._officers.get(event.officer_id)
            if officer is None:
                officer = self._officers[event.officer_id] = _Officer()
            officer.add(event, outside_working_hours(event.at))
            if event.person_key and not event.refused:
                self._serve(event.person_key, event.at)

    def drop_until(self, since: datetime) -> None:
        """Forget the notes of `since` and before."""
        self.since = since
        cut = bisect.bisect_right(self.events, since, key=_at)
        if not cut:
            return
        dropped: dict[str, int] = {}
        for event in self.events[:cut]:
            dropped[event.officer_id] = dropped.get(event.officer_id, 0) + 1
        del self.events[:cut]
        for officer_id, count in dropped.items():
            officer = self._officers[officer_id]
            officer.drop_until(since, count)
            if not officer.notes:
                del self._officers[officer_id]
        gone = bisect.bisect_right(self._served, since, key=_first)
        for at, person in self._served[:gone]:
            if self._last_served.get(person) == at:
                del self._last_served[person]
        del self._served[:gone]

    def finding(self, agreement_id: int, rules: Rules, now: datetime,
                officer_rules: dict[str, Rules] | None = None,
                kept_out: frozenset[str] | set[str] = frozenset()) -> Finding | None:
        """What `evaluate` finds in the window without the officers `kept_out`."""
        if not self._may_fire(rules, now, officer_rules or {}, kept_out):
            return None
        return evaluate(agreement_id, [a for a in self.events if a.officer_id not in kept_out],
                        rules, now, officer_rules)

    def _may_fire(self, rules: Rules, now: datetime, officer_rules: dict[str, Rules],
                  kept_out: frozenset[str] | set[str]) -> bool:
        many = rules[RuleKind.MANY_PERSONS]
        # People served by officers kept out are counted too: a bound, never short.
        served = len(self._served) - bisect.bisect_right(
            self._served, now - many.window, key=_first)
        if served >= many.threshold:
            return True
        return any(officer.may_fire(officer_rules.get(officer_id, rules), now)
                   for officer_id, officer in self._officers.items()
                   if officer_id not in kept_out)

    def _serve(self, person: str, at: datetime) -> None:
        before = self._last_served.get(person)
        if before is not None:
            if before >= at:
                return
            self._served.pop(bisect.bisect_left(self._served, (before, person)))
        self._last_served[person] = at
        bisect.insort_right(self._served, (at, person))


def _one_apart(first: Activity, then: Activity) -> bool:
    assert first.number is not None and then.number is not None
    return abs(then.number - first.number) == 1


def _after(times: list[datetime], cutoff: datetime) -> int:
    """How many of the sorted `times` are after `cutoff`."""
    return len(times) - bisect.bisect_right(times, cutoff)


def _first(served: tuple[datetime, str]) -> datetime:
    return served[0]
