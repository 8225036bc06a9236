"""What every chapter of the walkthrough shares: a step that failed, a refusal expected,
and the shape of `step` (a title and what it does)."""

from __future__ import annotations

from collections.abc import Callable

from onceonly.client import ExchangeError


class StepFailed(Exception):
    pass


def expect_refusal(action: Callable[[], object], code: str) -> str:
    try:
        action()
    except ExchangeError as refusal:
        if refusal.code != code:
            raise StepFailed(f"expected refusal {code}, got {refusal.code}: {refusal.detail}") \
                from None
        return f"refused: {refusal.status} {refusal.code} — {refusal.detail}"
    raise StepFailed(f"expected refusal {code}, but the query was answered")


Step = Callable[[str, Callable[[], str]], None]
