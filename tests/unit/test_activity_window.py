"""The anomaly detector's kept window finds what `evaluate` finds over the same notes, pass
after pass, however the notes arrive."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from onceonly.domain.activity_window import ActivityWindow
from onceonly.domain.anomaly import (
    DEFAULT_RULES,
    Activity,
    RuleKind,
    evaluate,
    outside_working_hours,
    rule,
)

START = datetime(2026, 11, 24, 18, 55, tzinfo=UTC)  # working hours end within the runs
OFFICERS = ("o1", "o2", "o3")


def rules(threshold: int, seconds: int):
    return {kind: rule(kind.value, threshold, seconds) for kind in DEFAULT_RULES}


note = st.tuples(st.integers(-30, 5),  # seconds from the pass's time: late commits too
                 st.sampled_from(OFFICERS), st.integers(0, 6),  # person
                 st.one_of(st.none(), st.integers(0, 8)),  # identifier number
                 st.booleans())  # refused
passes = st.lists(st.tuples(st.integers(1, 40), st.lists(note, max_size=12)),
                  min_size=1, max_size=25)
# The passes, the consumer's threshold and window, officers' own (threshold, window), and
# the officers kept out.
WINDOWS = (passes, st.integers(2, 5), st.integers(5, 120),
           st.dictionaries(st.sampled_from(OFFICERS), st.tuples(st.integers(2, 5),
                                                                st.integers(5, 120))),
           st.sets(st.sampled_from(OFFICERS)))


@settings(max_examples=300, deadline=None)
@given(*WINDOWS)
def test_the_kept_window_finds_what_evaluate_finds(passes, threshold, seconds, own, kept_out):
    consumer = rules(threshold, seconds)
    officer_rules = {officer: rules(*setting) for officer, setting in own.items()}
    longest = max([timedelta(seconds=seconds),
                   *(timedelta(seconds=s) for _, s in own.values())])
    now = START
    window = ActivityWindow(now - longest)
    plain: list[Activity] = []  # the window as the detector kept it before
    for advance, notes in passes:
        now += timedelta(seconds=advance)
        since = now - longest
        window.drop_until(since)
        del plain[:bisect.bisect_right(plain, since, key=lambda a: a.at)]
        new = sorted((Activity(now + timedelta(seconds=offset), officer, 7, f"P{person}",
                               number, refused)
                      for offset, officer, person, number, refused in notes),
                     key=lambda a: a.at)
        new = [a for a in new if a.at > since]
        window.add(new)
        for event in new:
            bisect.insort_right(plain, event, key=lambda a: a.at)
        assert window.events == plain
        expected = evaluate(7, [a for a in plain if a.officer_id not in kept_out], consumer,
                            now, officer_rules)
        assert window.finding(7, consumer, now, officer_rules, kept_out) == expected


def test_a_run_of_identifiers_fires_from_the_kept_window_however_it_arrived():
    walk = [Activity(START + timedelta(seconds=i), "o1", 7, f"P{i}", 100 + i, False)
            for i in range(20)]
    window = ActivityWindow(START - timedelta(minutes=10))
    window.add(walk[10:])  # the later half committed first
    assert window.finding(7, DEFAULT_RULES, walk[-1].at) is None
    window.add(reversed(walk[:10]))
    finding = window.finding(7, DEFAULT_RULES, walk[-1].at)
    assert finding is not None and finding.rule.kind is RuleKind.SEQUENTIAL_IDS
    assert finding.evidence["count"] == 20


def test_what_ages_out_of_the_kept_window_no_longer_counts():
    storm = [Activity(START + timedelta(seconds=i), "o1", 7, None, None, True)
             for i in range(50)]
    window = ActivityWindow(START - timedelta(minutes=5), storm)
    assert window.finding(7, DEFAULT_RULES, storm[-1].at) is not None
    later = storm[0].at + timedelta(minutes=5)  # the first refusal is out of the window
    window.drop_until(later - timedelta(minutes=5))
    assert window.finding(7, DEFAULT_RULES, later) is None
    assert len(window.events) == 49


def may_fire_exactly(plain: list[Activity], steps: list[Activity], consumer, officer_rules,
                     kept_out, now: datetime) -> bool:
    """Whether a rule could fire, counted from the notes themselves: `steps` are the later
    notes of the one-apart pairs of an officer's identifiers as they arrived in order."""
    many = consumer[RuleKind.MANY_PERSONS]
    latest: dict[str, datetime] = {}
    for a in plain:
        if a.person_key and not a.refused:
            latest[a.person_key] = a.at
    if sum(at > now - many.window for at in latest.values()) >= many.threshold:
        return True
    for officer in {a.officer_id for a in plain} - set(kept_out):
        own = officer_rules.get(officer, consumer)
        storm, late, walk = (own[RuleKind.REFUSAL_STORM], own[RuleKind.OFF_HOURS],
                             own[RuleKind.SEQUENTIAL_IDS])
        mine = [a for a in plain if a.officer_id == officer]
        if (sum(a.refused and a.at > now - storm.window for a in mine) >= storm.threshold
                or sum(outside_working_hours(a.at) and a.at > now - late.window
                       for a in mine) >= late.threshold
                or sum(s.officer_id == officer and s.at > now - walk.window
                       for s in steps) + 1 >= walk.threshold):
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(*WINDOWS)
def test_notes_arriving_in_order_are_counted_exactly(passes, threshold, seconds, own, kept_out):
    """Arriving in time order, what the window counts is exact, not only a bound: a pass
    asks `evaluate` only when a count has reached its threshold, and an officer is kept
    only while they have notes in the window."""
    consumer = rules(threshold, seconds)
    officer_rules = {officer: rules(*setting) for officer, setting in own.items()}
    longest = max([timedelta(seconds=seconds),
                   *(timedelta(seconds=s) for _, s in own.values())])
    now = START
    window = ActivityWindow(now - longest)
    assert window.since == now - longest
    plain: list[Activity] = []
    steps: list[Activity] = []
    last_numbered: dict[str, Activity] = {}
    for advance, notes in passes:
        now += timedelta(seconds=advance)
        since = now - longest
        window.drop_until(since)
        assert window.since == since
        plain = [a for a in plain if a.at > since]
        new = [Activity(now + timedelta(microseconds=i), officer, 7, f"P{person}", number,
                        refused)
               for i, (_, officer, person, number, refused) in enumerate(notes)]
        for event in new:
            before = last_numbered.get(event.officer_id)
            if event.number is not None:
                if (before is not None and before.at > since
                        and abs(event.number - before.number) == 1):
                    steps.append(event)
                last_numbered[event.officer_id] = event
        window.add(new)
        plain += new
        assert set(window._officers) == {a.officer_id for a in plain}
        assert window._may_fire(consumer, now, officer_rules, kept_out) == may_fire_exactly(
            plain, steps, consumer, officer_rules, kept_out, now)


def numbered(seconds: int, number: int) -> Activity:
    return Activity(START + timedelta(seconds=seconds), "o1", 7, None, number, False)


def test_an_identifier_committed_late_is_paired_with_the_one_after_it():
    walk = rules(2, 60)
    window = ActivityWindow(START - timedelta(minutes=1), [numbered(2, 5)])
    window.add([numbered(1, 6)])  # one apart from the note after it
    assert window._may_fire(walk, START + timedelta(seconds=2), {}, frozenset())


def test_an_identifier_committed_late_is_not_paired_with_the_window_s_last():
    walk = rules(3, 60)
    window = ActivityWindow(START - timedelta(minutes=1), [numbered(2, 5)])
    window.add([numbered(1, 6)])  # one step only, ending at the note after it
    assert not window._may_fire(walk, START + timedelta(seconds=2), {}, frozenset())


def test_a_late_identifier_s_step_ends_at_the_note_after_it_not_at_the_last():
    window = ActivityWindow(START - timedelta(minutes=1), [numbered(2, 5), numbered(30, 9)])
    window.add([numbered(1, 6)])  # its step ends at 2 s; the window's last note is at 30 s
    # Seen from 40 s with a 20 s window, the step at 2 s is out of it.
    assert not window._may_fire(rules(2, 20), START + timedelta(seconds=40), {}, frozenset())
