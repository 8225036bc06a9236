"""The request and decision figures, each labelled child bound once: the same figures as
`labels()` on every call, and no child before its first use."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from onceonly.entrypoints.api.middleware import Metrics


def _samples(metrics: Metrics) -> dict[tuple[str, ...], float]:
    return {(s.name, *sorted(s.labels.items())): s.value
            for family in metrics.registry.collect() for s in family.samples
            if not s.name.endswith("_created")}


def test_bound_children_count_as_labels_does() -> None:
    bound, looked_up = Metrics(CollectorRegistry()), Metrics(CollectorRegistry())
    answers = [("POST", "/v1/queries", 200, 0.002), ("POST", "/v1/queries", 200, 0.02),
               ("GET", "unmatched", 404, 0.0001), ("POST", "/v1/queries", 403, 0.3)]
    for method, route, status, seconds in answers:
        bound.answered(method, route, status, seconds)
        looked_up.requests.labels(method, route, str(status)).inc()
        looked_up.latency.labels(route).observe(seconds)
    for outcome, reason in [("permit", ""), ("deny", "purpose_mismatch"), ("permit", "")]:
        bound.decided(outcome, reason)
        looked_up.decisions.labels(outcome, reason).inc()
    assert _samples(bound) == _samples(looked_up)
    assert _samples(bound)[("onceonly_decisions_total", ("outcome", "permit"),
                            ("reason", ""))] == 2


def test_no_figure_before_its_first_use() -> None:
    metrics = Metrics(CollectorRegistry())
    assert _samples(metrics) == {}
    metrics.decided("deny", "quota_exceeded")
    assert list(_samples(metrics)) == [("onceonly_decisions_total", ("outcome", "deny"),
                                        ("reason", "quota_exceeded"))]
