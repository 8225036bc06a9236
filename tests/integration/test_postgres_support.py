"""The suite's own PostgreSQL finder: a throwaway cluster when no server answers, and a
message saying what to start when none can be had."""

from __future__ import annotations

import pytest

from tests.support import postgres


def test_a_throwaway_cluster_starts_answers_and_goes():
    throwaway = postgres._start_throwaway()
    try:
        assert postgres._answers(throwaway.url)
    finally:
        throwaway.stop()
    assert not postgres._answers(throwaway.url)
    assert not throwaway.folder.exists()


def test_an_explicit_url_that_does_not_answer_fails_with_what_to_do(monkeypatch):
    monkeypatch.setenv("ONCEONLY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:1/x")
    with pytest.raises(postgres.NoPostgres) as missing:
        postgres.find_postgres()
    assert "does not answer" in str(missing.value)
    assert "ONCEONLY_TEST_POSTGRES_URL" in str(missing.value)


def test_without_initdb_the_message_says_how_to_get_postgres():
    with pytest.raises(postgres.NoPostgres) as missing:
        postgres._start_throwaway(find_bin=lambda name: None)
    assert "apt-get install postgresql" in str(missing.value)

