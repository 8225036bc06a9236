"""How long an organisation has to answer a person: UK GDPR Article 12(3) gives one month
from receipt for a request such as rectification (Article 16). A month is a calendar month:
to the same day of the next month, or that month's last day when it has no such day."""

from __future__ import annotations

import calendar
from datetime import datetime


def one_month_after(at: datetime) -> datetime:
    """The same moment a calendar month later (31 January: the last day of February)."""
    year, month = (at.year + 1, 1) if at.month == 12 else (at.year, at.month + 1)
    last_day = calendar.monthrange(year, month)[1]
    return at.replace(year=year, month=month, day=min(at.day, last_day))
