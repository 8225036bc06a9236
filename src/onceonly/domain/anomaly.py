"""Patterns that look like harvesting, and what the exchange does about them: suspend the one
officer whose pattern it is, or else the one agreement it went through (never the whole
organisation), and alert the provider's guardian, who resumes or revokes it. Pure: the
caller supplies the recent activity."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from onceonly.domain.errors import invalid


class RuleKind(StrEnum):
    MANY_PERSONS = "many_persons"  # distinct people through one agreement in a short time
    SEQUENTIAL_IDS = "sequential_ids"  # an officer walking through identifiers in order
    OFF_HOURS = "off_hours"  # an officer's burst of queries outside working hours
    REFUSAL_STORM = "refusal_storm"  # an officer refused again and again


@dataclass(frozen=True, slots=True)
class Rule:
    kind: RuleKind
    threshold: int  # a finding once the count reaches this
    window: timedelta


DEFAULT_RULES = {
    RuleKind.MANY_PERSONS: Rule(RuleKind.MANY_PERSONS, 500, timedelta(minutes=10)),
    RuleKind.SEQUENTIAL_IDS: Rule(RuleKind.SEQUENTIAL_IDS, 20, timedelta(minutes=10)),
    RuleKind.OFF_HOURS: Rule(RuleKind.OFF_HOURS, 100, timedelta(hours=1)),
    RuleKind.REFUSAL_STORM: Rule(RuleKind.REFUSAL_STORM, 50, timedelta(minutes=5)),
}
LONGEST_WINDOW = max(rule.window for rule in DEFAULT_RULES.values())
MAX_WINDOW = timedelta(days=1)
WORKING_HOURS = (time(7, 0), time(19, 0))
WORKING_ZONE = ZoneInfo("Europe/London")


def rule(kind: str, threshold: int, window_seconds: int) -> Rule:
    """A configured rule, checked."""
    try:
        parsed = RuleKind(kind)
    except ValueError:
        raise invalid("unknown_rule", f"no anomaly rule {kind!r}; one of "
                      f"{', '.join(k.value for k in RuleKind)}") from None
    if threshold < 2:
        raise invalid("invalid_threshold", "a threshold below 2 would fire on normal use")
    if not 1 <= window_seconds <= MAX_WINDOW.total_seconds():
        raise invalid("invalid_window", "the window is 1 second to 1 day")
    return Rule(parsed, threshold, timedelta(seconds=window_seconds))


@dataclass(frozen=True, slots=True)
class Activity:
    """One decision, as anomaly rules see it: no personal values."""

    at: datetime
    officer_id: str
    agreement_id: int | None
    person_key: str | None
    number: int | None  # the digits of the identifier asked for
    refused: bool


class Suspension(StrEnum):
    """What a finding suspends, and so what its alert says and what resolving it undoes."""

    # One officer's pattern: that officer is kept from the provider's data (under every
    # agreement with it); the agreement carries on for the consumer's other officers.
    OFFICER = "officer"
    # The agreement's traffic as a whole: the agreement is suspended, for every officer.
    AGREEMENT = "agreement"

    @classmethod
    def of(cls, officer_id: str | None) -> Suspension:
        return cls.OFFICER if officer_id else cls.AGREEMENT


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    agreement_id: int
    officer_id: str | None
    evidence: dict[str, Any]

    @property
    def suspends(self) -> Suspension:
        return Suspension.of(self.officer_id)


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    at: datetime
    provider_id: str
    consumer_id: str
    agreement_id: int
    officer_id: str | None
    rule: str
    evidence: dict[str, Any]
    status: str  # open, resumed, revoked
    resolved_by: str | None
    resolved_at: datetime | None
    resolution: str | None

    @property
    def suspended(self) -> Suspension:
        return Suspension.of(self.officer_id)

    @property
    def summary(self) -> str:
        """What was suspended, and what resuming or revoking the alert does, in words."""
        if self.suspended is Suspension.OFFICER:
            return (f"Officer {self.officer_id} of {self.consumer_id} is suspended from "
                    f"{self.provider_id}'s data, under agreement {self.agreement_id} and "
                    f"every other; agreement {self.agreement_id} carries on for "
                    f"{self.consumer_id}'s other officers. Resume lets the officer back; "
                    "revoke keeps them out.")
        return (f"Agreement {self.agreement_id} is suspended for every officer of "
                f"{self.consumer_id}. Resume it, or revoke it.")


def identifier_number(value: str) -> int | None:
    """The digits of an identifier (AB123456C -> 123456): enough to see a sequence."""
    digits = re.sub(r"\D", "", value)
    return int(digits) if 0 < len(digits) <= 15 else None


def outside_working_hours(at: datetime) -> bool:
    local = at.astimezone(WORKING_ZONE)
    start, end = WORKING_HOURS
    return local.weekday() >= 5 or not start <= local.time() < end


def _evidence(rule: Rule, count: int, events: Sequence[Activity]) -> dict[str, Any]:
    return {"rule": rule.kind.value, "count": count, "threshold": rule.threshold,
            "window_seconds": int(rule.window.total_seconds()),
            "first": events[0].at.isoformat(), "last": events[-1].at.isoformat()}


Rules = dict[RuleKind, Rule]


def layered_rules(own: Iterable[tuple[str | None, Rule]]) -> tuple[Rules, dict[str, Rules]]:
    """The consumer's rules and, for each officer with thresholds of their own, theirs, from
    the thresholds set (officer None: the consumer's), later ones winning: the defaults, then
    the consumer's own, then an officer's own over their consumer's."""
    own = list(own)
    consumer: Rules = dict(DEFAULT_RULES)
    for officer, configured in own:
        if officer is None:
            consumer[configured.kind] = configured
    officers: dict[str, Rules] = {}
    for officer, configured in own:
        if officer is not None:
            officers.setdefault(officer, dict(consumer))[configured.kind] = configured
    return consumer, officers


def evaluate(agreement_id: int, activity: Sequence[Activity], rules: Rules, now: datetime,
             officer_rules: dict[str, Rules] | None = None) -> Finding | None:
    """The first rule the agreement's recent activity (oldest first) breaks, if any; an
    officer's own thresholds, where set, replace the consumer's for that officer."""
    def recent(rule: Rule) -> list[Activity]:
        return [a for a in activity if a.at > now - rule.window]

    many = rules[RuleKind.MANY_PERSONS]
    window = recent(many)
    persons = {a.person_key for a in window if a.person_key and not a.refused}
    if len(persons) >= many.threshold:
        return Finding(many, agreement_id, None, _evidence(many, len(persons), window))
    by_officer: dict[str, list[Activity]] = {}
    for event in activity:
        by_officer.setdefault(event.officer_id, []).append(event)
    for officer, events in sorted(by_officer.items()):
        found = _officer_finding(agreement_id, officer, events,
                                 (officer_rules or {}).get(officer, rules), now)
        if found:
            return found
    return None


def _officer_finding(agreement_id: int, officer: str, events: list[Activity], rules: Rules,
                     now: datetime) -> Finding | None:
    storm = rules[RuleKind.REFUSAL_STORM]
    refusals = [e for e in events if e.refused and e.at > now - storm.window]
    if len(refusals) >= storm.threshold:
        return Finding(storm, agreement_id, officer, _evidence(storm, len(refusals), refusals))
    late = rules[RuleKind.OFF_HOURS]
    off = [e for e in events if e.at > now - late.window and outside_working_hours(e.at)]
    if len(off) >= late.threshold:
        return Finding(late, agreement_id, officer, _evidence(late, len(off), off))
    walk = rules[RuleKind.SEQUENTIAL_IDS]
    run = _longest_run([e for e in events if e.at > now - walk.window and e.number is not None])
    if len(run) >= walk.threshold:
        return Finding(walk, agreement_id, officer, _evidence(walk, len(run), run))
    return None


def _longest_run(events: list[Activity]) -> list[Activity]:
    """The longest stretch of consecutive queries whose identifiers go up (or down) by one."""
    best: list[Activity] = []
    current: list[Activity] = []
    step = 0
    for event in events:
        if current and event.number is not None and current[-1].number is not None:
            delta = event.number - current[-1].number
            if abs(delta) == 1 and (step in (0, delta)):
                current.append(event)
                step = delta
            else:
                current, step = [event], 0
        else:
            current = [event]
        if len(current) > len(best):
            best = list(current)
    return best
