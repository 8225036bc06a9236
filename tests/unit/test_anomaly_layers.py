"""Which anomaly thresholds apply: the defaults, the consumer's own over them, an officer's
own over their consumer's, and a later setting over an earlier one."""

from __future__ import annotations

from datetime import timedelta

from onceonly.domain.anomaly import DEFAULT_RULES, Rule, RuleKind, layered_rules

MANY, RUN = RuleKind.MANY_PERSONS, RuleKind.SEQUENTIAL_IDS


def threshold(kind: RuleKind, n: int) -> Rule:
    return Rule(kind, n, timedelta(minutes=1))


def test_with_nothing_set_the_defaults_apply_and_no_officer_has_rules_of_their_own():
    consumer, officers = layered_rules([])
    assert consumer == DEFAULT_RULES and consumer is not DEFAULT_RULES
    assert officers == {}


def test_an_officers_own_threshold_is_over_the_consumers_which_is_over_the_default():
    consumer, officers = layered_rules([
        ("officer-1", threshold(MANY, 5)),  # set before the consumer's: still the officer's
        (None, threshold(MANY, 50)),
        (None, threshold(RUN, 7)),
    ])
    assert consumer[MANY].threshold == 50 and consumer[RUN].threshold == 7
    assert consumer[RuleKind.OFF_HOURS] == DEFAULT_RULES[RuleKind.OFF_HOURS]
    assert set(officers) == {"officer-1"}
    mine = officers["officer-1"]
    assert mine[MANY].threshold == 5
    assert mine[RUN].threshold == 7  # the consumer's, not the default
    assert mine[RuleKind.REFUSAL_STORM] == DEFAULT_RULES[RuleKind.REFUSAL_STORM]


def test_a_later_setting_wins_over_an_earlier_one():
    consumer, officers = layered_rules([
        (None, threshold(MANY, 50)), (None, threshold(MANY, 60)),
        ("officer-1", threshold(RUN, 3)), ("officer-1", threshold(RUN, 4)),
    ])
    assert consumer[MANY].threshold == 60
    assert officers["officer-1"][RUN].threshold == 4
    assert DEFAULT_RULES[MANY].threshold == 500  # the defaults themselves are untouched
