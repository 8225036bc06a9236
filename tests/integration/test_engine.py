"""Engines for the exchange database: pooled PostgreSQL connections are checked only when
they have sat idle."""

from __future__ import annotations

from sqlalchemy import text

from onceonly.adapters.db import engine as engines


def test_a_pooled_connection_killed_while_idle_is_replaced_before_use(postgres_server,
                                                                       monkeypatch):
    """No ping on every checkout: only a connection that sat idle is pinged, and one the
    server dropped meanwhile is replaced instead of failing the request."""
    pooled = engines.make_engine(postgres_server, pool_size=1, max_overflow=0)
    try:
        with pooled.connect() as conn:
            killed = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with pooled.connect() as conn:  # reused at once: the same connection, no ping
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == killed
        admin = engines.make_engine(postgres_server)
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"),
                                {"pid": killed}).scalar_one()
        admin.dispose()
        monkeypatch.setattr(engines, "IDLE_BEFORE_PING", 0.0)

        with pooled.connect() as conn:
            replaced = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()

        assert replaced != killed
    finally:
        pooled.dispose()
