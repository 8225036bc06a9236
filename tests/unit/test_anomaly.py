"""Anomaly rules: pure, no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from onceonly.domain.anomaly import (
    DEFAULT_RULES,
    Activity,
    RuleKind,
    evaluate,
    identifier_number,
    outside_working_hours,
    rule,
)
from onceonly.domain.errors import DomainError

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # a Tuesday, working hours in London
NIGHT = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def rules(**thresholds: int):
    chosen = dict(DEFAULT_RULES)
    for kind, threshold in thresholds.items():
        base = DEFAULT_RULES[RuleKind(kind)]
        chosen[base.kind] = rule(kind, threshold, int(base.window.total_seconds()))
    return chosen


def events(n: int, *, start: datetime = NOON, officer: str = "o1", person=lambda i: f"P{i}",
           number=lambda i: None, refused: bool = False, step=timedelta(seconds=1)):
    return [Activity(start + i * step, officer, 7, person(i), number(i), refused)
            for i in range(n)]


def last(activity) -> datetime:
    return activity[-1].at + timedelta(seconds=1)


def test_many_people_through_one_agreement_fire_at_the_threshold_not_before():
    below = events(4)
    assert evaluate(7, below, rules(many_persons=5), last(below)) is None
    reached = events(5)
    finding = evaluate(7, reached, rules(many_persons=5), last(reached))
    assert finding is not None
    assert (finding.rule.kind, finding.agreement_id, finding.officer_id) == \
        (RuleKind.MANY_PERSONS, 7, None)
    assert finding.evidence["count"] == 5


def test_the_same_person_again_and_refusals_are_not_more_people():
    again = events(20, person=lambda i: "P1")
    assert evaluate(7, again, rules(many_persons=5), last(again)) is None
    refused = events(20, refused=True)
    assert evaluate(7, refused, rules(many_persons=5, refusal_storm=50), last(refused)) is None


def test_only_the_window_counts():
    spread = events(5, step=timedelta(minutes=5))  # 20 minutes for 5 people; window is 10
    assert evaluate(7, spread, rules(many_persons=5), last(spread)) is None


def test_a_run_of_sequential_identifiers_fires_up_or_down():
    up = events(5, number=lambda i: 1000 + i)
    down = events(5, number=lambda i: 1000 - i)
    for walk in (up, down):
        finding = evaluate(7, walk, rules(sequential_ids=5), last(walk))
        assert finding is not None and finding.rule.kind is RuleKind.SEQUENTIAL_IDS
        assert finding.officer_id == "o1"


@pytest.mark.parametrize("numbers", [[1, 2, 3, 5, 6, 7], [1, 2, 1, 2, 1, 2], [10, 20, 30, 40]])
def test_what_is_not_a_run_does_not_fire(numbers):
    activity = events(len(numbers), number=lambda i: numbers[i])
    assert evaluate(7, activity, rules(sequential_ids=4), last(activity)) is None


def test_two_officers_interleaved_are_two_walks():
    one = events(3, officer="o1", number=lambda i: 100 + i)
    two = events(3, officer="o2", number=lambda i: 500 + i, start=NOON + timedelta(hours=0))
    mixed = sorted(one + two, key=lambda a: (a.at, a.officer_id))
    assert evaluate(7, mixed, rules(sequential_ids=4), last(mixed)) is None
    assert evaluate(7, mixed, rules(sequential_ids=3), last(mixed)) is not None


def test_a_burst_outside_working_hours_fires_and_the_same_at_noon_does_not():
    night = events(5, start=NIGHT)
    day = events(5)
    assert evaluate(7, night, rules(off_hours=5), last(night)).rule.kind is RuleKind.OFF_HOURS
    assert evaluate(7, day, rules(off_hours=5), last(day)) is None


def test_a_storm_of_refusals_by_one_officer_fires():
    storm = events(5, refused=True)
    finding = evaluate(7, storm, rules(refusal_storm=5), last(storm))
    assert finding is not None and finding.rule.kind is RuleKind.REFUSAL_STORM


def test_an_officer_of_their_own_threshold_is_judged_by_it():
    activity = events(3, refused=True, officer="trusted")
    strict = {"trusted": rules(refusal_storm=2)}
    assert evaluate(7, activity, rules(refusal_storm=50), last(activity)) is None
    assert evaluate(7, activity, rules(refusal_storm=50), last(activity), strict) is not None


@pytest.mark.parametrize(("at", "outside"), [
    (datetime(2026, 11, 24, 12, 0, tzinfo=UTC), False),
    (datetime(2026, 11, 24, 6, 59, tzinfo=UTC), True),
    (datetime(2026, 11, 24, 19, 0, tzinfo=UTC), True),
    (datetime(2026, 11, 28, 12, 0, tzinfo=UTC), True),  # a Saturday
    (datetime(2026, 7, 1, 6, 30, tzinfo=UTC), False),  # 07:30 in London in summer time
])
def test_working_hours_are_london_weekdays_seven_to_seven(at, outside):
    assert outside_working_hours(at) is outside


@pytest.mark.parametrize(("value", "number"), [
    ("AB123456C", 123456), ("DRV-000042", 42), ("ABCDEF", None), ("1" * 16, None)])
def test_identifier_numbers(value, number):
    assert identifier_number(value) == number


@pytest.mark.parametrize(("kind", "threshold", "window", "code"), [
    ("nonsense", 5, 60, "unknown_rule"),
    ("many_persons", 1, 60, "invalid_threshold"),
    ("many_persons", 5, 0, "invalid_window"),
    ("many_persons", 5, 86_401, "invalid_window"),
])
def test_bad_rules_are_refused(kind, threshold, window, code):
    with pytest.raises(DomainError) as refused:
        rule(kind, threshold, window)
    assert refused.value.code == code


@pytest.mark.parametrize(("kind", "make"), [
    ("refusal_storm", lambda: events(3, refused=True, person=lambda i: "P")),
    ("off_hours", lambda: events(3, start=NIGHT, person=lambda i: "P")),
    ("sequential_ids", lambda: events(3, person=lambda i: "P", number=lambda i: 100 + i)),
])
def test_each_officer_rule_finds_exactly_what_it_saw(kind, make):
    seen = make()
    chosen = rules(**{kind: 3})
    now = last(seen)
    finding = evaluate(9, seen, chosen, now)
    assert finding is not None
    assert (finding.rule, finding.agreement_id, finding.officer_id) == (chosen[RuleKind(kind)],
                                                                        9, "o1")
    window = int(chosen[RuleKind(kind)].window.total_seconds())
    assert finding.evidence == {"rule": kind, "count": 3, "threshold": 3,
                                "window_seconds": window, "first": seen[0].at.isoformat(),
                                "last": seen[2].at.isoformat()}
    # an event exactly one window old is outside it
    edge = now - chosen[RuleKind(kind)].window
    moved = [replace(seen[0], at=edge), *seen[1:]]
    assert evaluate(9, moved, chosen, now) is None


def test_many_people_evidence_and_its_window_edge():
    seen = events(3)
    chosen = rules(many_persons=3)
    now = last(seen)
    finding = evaluate(4, seen, chosen, now)
    assert finding is not None and finding.agreement_id == 4
    assert finding.evidence == {"rule": "many_persons", "count": 3, "threshold": 3,
                                "window_seconds": 600, "first": seen[0].at.isoformat(),
                                "last": seen[2].at.isoformat()}
    moved = [replace(seen[0], at=now - timedelta(minutes=10)), *seen[1:]]
    assert evaluate(4, moved, chosen, now) is None


def test_a_run_of_identifiers_keeps_its_direction():
    numbers = [5, 6, 7, 6, 5, 4, 3]  # up three, then a new run down four from the second 6
    seen = events(7, person=lambda i: "P", number=lambda i: numbers[i])
    finding = evaluate(7, seen, rules(sequential_ids=4), last(seen))
    assert finding is not None
    assert (finding.evidence["count"], finding.evidence["first"]) == (4, seen[3].at.isoformat())
    assert evaluate(7, seen, rules(sequential_ids=5), last(seen)) is None
    after_a_gap = events(4, person=lambda i: "P", number=lambda i: [1, 9, 10, 11][i])
    finding = evaluate(7, after_a_gap, rules(sequential_ids=3), last(after_a_gap))
    assert finding is not None and finding.evidence["first"] == after_a_gap[1].at.isoformat()


def test_the_edges_of_identifiers_hours_windows_and_runs():
    assert identifier_number("AB1C") == 1
    assert identifier_number("1" * 15) == int("1" * 15)
    assert identifier_number("1" * 16) is None and identifier_number("ABC") is None
    # Tuesday 24 November 2026: London is on UTC
    assert not outside_working_hours(datetime(2026, 11, 24, 7, 0, tzinfo=UTC))
    assert outside_working_hours(datetime(2026, 11, 24, 6, 59, 59, tzinfo=UTC))
    assert outside_working_hours(datetime(2026, 11, 24, 19, 0, tzinfo=UTC))
    assert rule("off_hours", 2, 1).window == timedelta(seconds=1)
    assert rule("off_hours", 2, 86_400).window == timedelta(days=1)
    for window in (0, 86_401):
        with pytest.raises(DomainError) as refused:
            rule("off_hours", 2, window)
        assert refused.value.code == "invalid_window"
    # of two runs as long, the first is the evidence
    numbers = [1, 2, 3, 10, 11, 12]
    seen = events(6, person=lambda i: "P", number=lambda i: numbers[i])
    finding = evaluate(7, seen, rules(sequential_ids=3), last(seen))
    assert finding is not None and finding.evidence["first"] == seen[0].at.isoformat()
