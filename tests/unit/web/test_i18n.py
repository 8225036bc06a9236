"""Which language a page is in, and dates and numbers written for it in UK time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from onceonly.entrypoints.web import i18n
from onceonly.entrypoints.web.manager_queue import waited


@pytest.mark.parametrize(("header", "language"), [
    ("cy", "cy"), ("cy-GB,en;q=0.5", "cy"), ("en-GB,cy;q=0.9", "en"),
    ("en;q=0.4, cy;q=0.8", "cy"), ("fr-FR", "en"), ("", "en"), ("cy;q=0", "en"),
    ("cy;q=nonsense, en", "en"),
])
def test_the_browser_language_is_honoured_when_it_is_one_of_ours(header, language):
    assert i18n.browser_language(header) == language


def test_a_moment_is_written_in_uk_time_with_the_months_name():
    winter = datetime(2026, 12, 5, 7, 28, tzinfo=UTC)
    summer = datetime(2026, 7, 5, 23, 30, tzinfo=UTC)  # 00:30 the next day in BST
    assert i18n.when(winter, "en") == "5 December 2026, 7:28am"
    assert i18n.when(summer, "en") == "6 July 2026, 12:30am"
    assert i18n.when(winter, "cy") == "5 Rhagfyr 2026, 7:28am"
    assert i18n.day(summer, "cy") == "6 Gorffennaf 2026"
    assert i18n.when(datetime(2026, 12, 5, 19, 5, tzinfo=UTC), "en") == "5 December 2026, 7:05pm"


def test_a_date_alone_is_written_with_the_months_name_in_each_language():
    assert i18n.day(date(2026, 12, 5), "en") == "5 December 2026"
    assert i18n.day(date(2026, 12, 5), "cy") == "5 Rhagfyr 2026"


def test_numbers_are_grouped_for_the_language():
    assert i18n.number(12345, "en") == "12,345"
    assert i18n.number(12345, "cy") == "12,345"


def test_a_wait_is_written_in_the_pages_language():
    assert waited(timedelta(days=3, hours=4)) == "3 days, 4 hours"
    assert waited(timedelta(days=1, hours=1)) == "1 day, 1 hour"
    assert waited(timedelta(days=3, hours=4), "cy") == "3 diwrnod, 4 awr"
    assert waited(timedelta(minutes=20), "cy") == "llai nag awr"
    assert waited(timedelta(minutes=20)) == "under an hour"
