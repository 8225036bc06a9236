"""What the walkthrough reads straight from the exchange's tables: which connector answered
each step, and the people its constraints chapter asks about (reads only)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, func, select

from onceonly.adapters.db import tables as t


def last_audit_seq(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.max(t.audit_log.c.seq), 0))).scalar_one()


def answered_by(engine: Engine, after_seq: int) -> list[tuple[str, dict]]:
    """The provider and connector of each dataset released from after `after_seq`."""
    query = (select(t.datasets.c.id, t.datasets.c.provider_id, t.datasets.c.connector)
             .select_from(t.audit_log.join(t.agreements,
                                           t.agreements.c.id == t.audit_log.c.agreement_id)
                          .join(t.datasets, t.datasets.c.id == t.agreements.c.dataset_id))
             .where(t.audit_log.c.seq > after_seq, t.audit_log.c.action == "query.release"))
    with engine.connect() as conn:  # each dataset once (PostgreSQL compares no JSON)
        found = {row.id: row for row in conn.execute(query)}
    return [(row.provider_id, row.connector) for _, row in sorted(found.items())]


def first_ninos(engine: Engine, count: int) -> Sequence[str]:
    """The first `count` NINOs of the person index, in order (the constraints chapter's
    harvest)."""
    with engine.connect() as conn:
        return conn.execute(select(t.person_links.c.value)
                            .where(t.person_links.c.scheme == "nino")
                            .order_by(t.person_links.c.value).limit(count)).scalars().all()
