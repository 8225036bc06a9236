"""The anomaly detector's kept window finds what `evaluate` finds over the same notes, pass
after pass, however the notes arrive."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from onceonly.domain.activity_window import ActivityWindow
from onceonly.domain.anomaly import DEFAULT_RULES, Activity, RuleKind, evaluate, rule

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


@settings(max_examples=300, deadline=None)
@given(passes, st.integers(2, 5), st.integers(5, 120),
       st.dictionaries(st.sampled_from(OFFICERS), st.tuples(st.integers(2, 5),
                                                             st.integers(5, 120))),
       st.sets(st.sampled_from(OFFICERS)))
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
