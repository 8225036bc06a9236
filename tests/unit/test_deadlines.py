"""One calendar month to answer a person (UK GDPR Article 12(3))."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onceonly.domain.deadlines import one_month_after


@pytest.mark.parametrize(("raised", "due"), [
    (datetime(2026, 12, 5, 7, 28, tzinfo=UTC), datetime(2027, 1, 5, 7, 28, tzinfo=UTC)),
    (datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC)),
    (datetime(2028, 1, 31, tzinfo=UTC), datetime(2028, 2, 29, tzinfo=UTC)),  # leap year
    (datetime(2026, 3, 31, tzinfo=UTC), datetime(2026, 4, 30, tzinfo=UTC)),
    (datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 30, tzinfo=UTC)),
    (datetime(2026, 12, 31, tzinfo=UTC), datetime(2027, 1, 31, tzinfo=UTC)),
    (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
])
def test_an_answer_is_due_one_calendar_month_after(raised, due):
    assert one_month_after(raised) == due
