"""Settings: a database URL is checked in one place, and says what to give instead."""

from __future__ import annotations

import pytest

from onceonly.config import DatabaseUrlInvalid, beside_database, parse_database_url


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


def test_an_exchanges_files_are_named_after_its_database(tmp_path, monkeypatch):
    assert beside_database(f"sqlite:///{tmp_path}/d.sqlite", "stores") == tmp_path / "d.stores"
    assert beside_database(f"sqlite:///{tmp_path}/wt.db", "master-keys.json") \
        == tmp_path / "wt.master-keys.json"
    monkeypatch.chdir(tmp_path)
    assert beside_database("postgresql+psycopg://postgres@127.0.0.1/test", "tokens.txt") \
        == tmp_path / "onceonly-data" / "tokens.txt"
