"""The settings model (config/model.py): a database URL is checked in one place, and says
what to give instead."""

from __future__ import annotations

import pytest

from onceonly.config import DatabaseUrlInvalid, parse_database_url


@pytest.mark.parametrize(("url", "message"), [
    ("", "the database URL is empty"),
    ("   ", "the database URL is empty"),
    ("not a database url", "is not a database URL"),
    ("sqlite:///", "sqlite:/// names no file"),
    ("sqlite://", "sqlite:// names no file"),
    ("sqlite:///:memory:", "names no file"),
    ("sqlite://somehost/exchange.sqlite", "names a host"),
    ("postgresql+psycopg2://postgres@127.0.0.1/test", "through psycopg 3"),
    ("mysql://nobody@nowhere/exchange", "unsupported database 'mysql'"),
])
def test_a_url_naming_no_usable_database_says_what_to_give(url, message):
    with pytest.raises(DatabaseUrlInvalid, match=message) as refused:
        parse_database_url(url)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("url", ["sqlite:///exchange.sqlite", "sqlite:////x/d.db",
                                 "postgresql://postgres@127.0.0.1/test",
                                 "postgresql+psycopg://postgres@127.0.0.1:5432/test"])
def test_usable_urls_pass(url):
    assert parse_database_url(url).database
