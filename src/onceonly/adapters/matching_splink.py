"""Probabilistic record linkage with splink (Fellegi-Sunter, DuckDB backend, in memory).

The model is configured, not trained: each level's m (how often it holds for the same
person) and u (how often for two different people) are set below from how records differ
in practice: names mistyped or changed on marriage, addresses gone stale, identifiers that
agree or do not. A configured model gives the same weights for the same records, on a
handful of records as on a million; training with EM wants many records and moves."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache
from typing import Any

from onceonly.domain.identity import REVIEW_WEIGHT, Match, MatchRecord

# Each comparison's levels, best first, with their m and u probabilities; a null on either
# side is neutral. splink (and DuckDB, pyarrow) load on the first match, not at start-up.
_LEVELS: dict[str, list[tuple[str, str, tuple[Any, ...], float, float]]] = {
    "identifiers": [
        ("agree", "ArrayIntersectLevel", ("ids", 1), 0.95, 1e-7),
        ("disagree", "ElseLevel", (), 0.05, 1.0),
    ],
    "first_name": [
        ("exact", "ExactMatchLevel", ("first_name",), 0.90, 0.004),
        ("similar", "JaroWinklerLevel", ("first_name", 0.88), 0.06, 0.003),
        ("different", "ElseLevel", (), 0.04, 0.993),
    ],
    "surname": [
        ("exact", "ExactMatchLevel", ("surname",), 0.85, 0.0015),
        ("similar", "JaroWinklerLevel", ("surname", 0.88), 0.05, 0.001),
        ("different", "ElseLevel", (), 0.10, 0.9975),  # changed on marriage
    ],
    "date_of_birth": [
        ("exact", "ExactMatchLevel", ("dob",), 0.95, 3e-5),
        ("one_digit", "LevenshteinLevel", ("dob", 1), 0.03, 8e-4),
        ("different", "ElseLevel", (), 0.02, 0.99917),
    ],
    "postcode": [
        ("exact", "ExactMatchLevel", ("postcode",), 0.80, 1e-5),
        ("district", "ExactMatchLevel", ("district",), 0.05, 0.035),
        ("different", "ElseLevel", (), 0.15, 0.965),  # a stale address
    ],
}
_NULL_COLUMN = {"identifiers": "ids", "first_name": "first_name", "surname": "surname",
                "date_of_birth": "dob", "postcode": "postcode"}
_RANK = {"exact": 0, "agree": 0, "similar": 1, "one_digit": 1, "district": 1,
         "different": 2, "disagree": 2, "missing": 3}
# How a field is reported (domain.identity.COMPARED_FIELDS): the name's two parts in one.
_REPORTED = {"identifiers": "identifiers", "first_name": "full_name", "surname": "full_name",
             "date_of_birth": "date_of_birth", "postcode": "postcode"}


@cache
def _comparisons() -> list[Any]:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return [
        cl.CustomComparison(output_column_name=name, comparison_levels=[
            cll.NullLevel(_NULL_COLUMN[name]),
            *(getattr(cll, kind)(*args).configure(m_probability=m, u_probability=u)
              for _, kind, args, m, u in levels)])
        for name, levels in _LEVELS.items()]


def _label(name: str, gamma: int) -> str:
    """The level a comparison vector value stands for (splink counts down to 0; -1 null)."""
    if gamma < 0:
        return "missing"
    labels = [level[0] for level in _LEVELS[name]]
    return labels[len(labels) - 1 - gamma]


def _table(records: Sequence[MatchRecord], schemes: frozenset[str] | None) -> Any:
    """The columns the model compares: name in two parts, lower case; dates as ISO text."""
    import pyarrow as pa

    rows = []
    for r in records:
        parts = (r.full_name or "").lower().split()
        ids = [i for i in r.identifiers if schemes is None or i.split(":", 1)[0] in schemes]
        postcode = (r.postcode or "").upper() or None
        rows.append({
            "unique_id": r.record_id,
            "first_name": parts[0] if parts else None,
            "surname": parts[-1] if len(parts) > 1 else None,
            "dob": r.date_of_birth.isoformat() if r.date_of_birth else None,
            "postcode": postcode,
            "district": postcode.split()[0] if postcode else None,
            "ids": ids or None,
        })
    schema = pa.schema([("unique_id", pa.string()), ("first_name", pa.string()),
                        ("surname", pa.string()), ("dob", pa.string()),
                        ("postcode", pa.string()), ("district", pa.string()),
                        ("ids", pa.list_(pa.string()))])
    return pa.Table.from_pylist(rows, schema=schema)


class SplinkMatcher:
    def __init__(self, threads: int = 2, use_probabilistic: bool = True) -> None:
        self.threads = threads
        # Off: identifiers only (the deterministic peer the benchmark compares with).
        self.use_probabilistic = use_probabilistic

    def match(self, records: Sequence[MatchRecord],
              reference: Sequence[MatchRecord]) -> list[Match]:
        if not records or not reference:
            return []
        import duckdb
        from splink import DuckDBAPI, Linker, SettingsCreator, block_on

        # Identifiers compared are of the schemes the records carry: a reference person's
        # identifier in another scheme says nothing either way.
        schemes = frozenset(i.split(":", 1)[0] for r in records for i in r.identifiers)
        connection = duckdb.connect(":memory:")
        connection.execute(f"SET threads = {int(self.threads)}")
        db = DuckDBAPI(connection)
        left = db.register(_table(records, None), table_name="records")
        right = db.register(_table(reference, schemes), table_name="reference")
        blocking = [block_on("ids", arrays_to_explode=["ids"])] if schemes else []
        if self.use_probabilistic:
            blocking += [block_on("dob"), block_on("postcode"),
                         block_on("first_name", "surname")]
        if not blocking:
            return []
        settings = SettingsCreator(
            link_type="link_only",
            # One of the reference people, if any, is each record's person.
            probability_two_random_records_match=1 / max(len(reference), 2),
            comparisons=_comparisons(),
            blocking_rules_to_generate_predictions=blocking,
            retain_matching_columns=True,  # with them the levels; projected away below
            retain_intermediate_calculation_columns=True,  # the levels (gamma_*)
        )
        logging.getLogger("splink").setLevel(logging.WARNING)
        try:
            linker = Linker([left, right], settings, log_level=None)
            predictions = linker.inference.predict(threshold_match_weight=REVIEW_WEIGHT,
                                                   warning_mode="never")
            gammas = ", ".join(f"gamma_{name}" for name in _LEVELS)
            rows = predictions.as_duckdbpyrelation().project(
                f"source_dataset_l, unique_id_l, unique_id_r, match_weight, {gammas}"
            ).fetchall()
        finally:
            connection.close()
        matches = []
        for source_l, id_l, id_r, weight, *levels in rows:
            record_id, person_key = (id_l, id_r) if source_l == "records" else (id_r, id_l)
            comparisons: dict[str, str] = {}
            for name, gamma in zip(_LEVELS, levels, strict=True):
                label, reported = _label(name, gamma), _REPORTED[name]
                # The name's two parts as one field: the weaker of the two.
                if _RANK.get(label, 0) >= _RANK.get(comparisons.get(reported, ""), -1):
                    comparisons[reported] = label
            agree = comparisons["identifiers"] == "agree"
            if not self.use_probabilistic and not agree:
                continue
            matches.append(Match(record_id, person_key, float(weight), agree, comparisons))
        return matches
