"""The standing cache (services/standing.py): whatever the kind, a kept value serves only a
request that read the very version it was kept under."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from onceonly.services.standing import StandingCache


def agreement_source(agreement_id: int) -> SimpleNamespace:
    return SimpleNamespace(agreement=SimpleNamespace(id=agreement_id))


KINDS = {
    "holder": (lambda c, v, value: c.keep_holder(v, "digest", value),
               lambda c, v: c.holder(v, "digest")),
    "agreement": (lambda c, v, value: c.keep_agreement(v, value),
                  lambda c, v: c.agreement(v, 7)),
    "training": (lambda c, v, value: c.keep_training(v, "officer", value),
                 lambda c, v: c.training(v, "officer")[1]),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_kept_value_serves_its_own_version_only(kind: str):
    keep, find = KINDS[kind]
    cache = StandingCache()
    value = agreement_source(7)
    keep(cache, 3, value)

    assert find(cache, 3) is value
    assert find(cache, 4) is None  # the version moved: read again
    assert find(cache, 2) is None
    assert find(cache, None) is None  # a store without a version keeps nothing


def test_an_agreement_is_known_to_be_kept_before_its_version_is_read():
    cache = StandingCache()
    assert not cache.has_agreement(7)
    cache.keep_agreement(3, agreement_source(7))
    assert cache.has_agreement(7)
    assert not cache.has_agreement(8)


def test_training_known_to_be_none_differs_from_training_unknown():
    cache = StandingCache()
    cache.keep_training(3, "officer", None)
    assert cache.training(3, "officer") == (True, None)
    assert cache.training(4, "officer") == (False, None)
