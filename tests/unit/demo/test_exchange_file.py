"""The demo world's declaration (demo/exchange.yaml): valid against the file format's
schema, and in step with the synthetic stores the demo fills (each store's columns are its
dataset's fields, each field in English and Welsh)."""

from __future__ import annotations

from datetime import date

import yaml
from jsonschema import Draft202012Validator

from onceonly.declarative.document import load, schema
from onceonly.demo.population import Pools, make_person, store_rows
from onceonly.demo.seed import SEED
from onceonly.demo.world import DEMO_FILE, notification_receivers, org_schemes


def test_the_demo_file_is_valid_against_the_schema() -> None:
    data = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))

    assert list(Draft202012Validator(schema()).iter_errors(data)) == []
    assert load(DEMO_FILE, {}).data["version"] == 1  # and the loader's own checks


def test_each_demo_store_is_a_declared_sql_dataset_with_its_fields_as_columns() -> None:
    declared = {d["system"]: d for d in load(DEMO_FILE, {}).data["datasets"]}
    pools = Pools.make(SEED)
    filled: dict[str, set[str]] = {}
    for index in range(200):
        for dataset_id, row in store_rows(make_person(SEED, index, pools, date(2026, 11, 1)),
                                          date(2026, 11, 1)).items():
            filled.setdefault(dataset_id, set()).update(row)

    sql = {d: spec for d, spec in declared.items() if spec["connector"]["kind"] == "sql"}
    assert filled.keys() == sql.keys()
    for dataset_id, spec in sql.items():
        connector = spec["connector"]
        fields = {f["name"]: f["type"] for f in spec["fields"]}
        assert connector["columns"] == fields, dataset_id
        assert filled[dataset_id] == {connector["key"], *fields}, dataset_id


def test_every_field_is_labelled_in_english_and_welsh() -> None:
    fields = [f for d in load(DEMO_FILE, {}).data["datasets"] for f in d["fields"]]

    assert fields
    assert [f["name"] for f in fields if not (f["label"] and f.get("label_cy")
                                              and f.get("description_cy"))] == []


def test_registers_and_their_receivers_are_read_from_the_file() -> None:
    assert {"GOV/HMRC", "GOV/DWP", "NHS/NHSE", "GOV/VETERANS"} <= notification_receivers()
    assert "POL/MET" not in notification_receivers()
    assert org_schemes()["POL/MET"] == ["vrm", "driver", "pairwise"]
    assert org_schemes()["GOV/DVLA"] == ["driver", "vrm"]
