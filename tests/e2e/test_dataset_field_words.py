"""Each dataset field's words in English and Welsh, on SQLite and PostgreSQL: published with
the dataset, kept, and listed by the catalogue; the demo datasets have them."""

from __future__ import annotations

from tests.e2e.conftest import Api
from tests.e2e.test_datasets_api import SYSTEM, field, publication, publish, store

__all__ = ["store"]  # the fixture, used by name


def test_a_field_published_with_welsh_words_is_listed_with_them(api: Api, store: str) -> None:
    welsh = field("vat_number") | {"label": "VAT number", "label_cy": "Rhif TAW",
                                   "description_cy": "rhif cofrestru TAW"}
    published = publish(api, publication(store, fields=[welsh, field("registered", "date")]))
    assert published.status_code == 201, published.text
    catalogue = api.client.get("/v1/catalogue").json()
    [vat] = [d for d in catalogue["datasets"] if d["id"] == SYSTEM]
    number, registered = vat["fields"]
    assert (number["label"], number["label_cy"], number["description_cy"]) == (
        "VAT number", "Rhif TAW", "rhif cofrestru TAW")
    assert (registered["label_cy"], registered["description_cy"]) == ("", "")  # not given


def test_the_demo_datasets_have_every_field_in_both_languages(api: Api) -> None:
    catalogue = api.client.get("/v1/catalogue").json()
    demo = [d for d in catalogue["datasets"] if d["id"] != SYSTEM]
    assert any(d["event_type"] for d in demo)  # the life-event registers too
    assert demo
    for dataset in demo:
        for spec in dataset["fields"]:
            assert spec["label"] and spec["label_cy"] and spec["description_cy"], (
                dataset["id"], spec["name"])
    [income] = [d for d in demo if d["id"] == "GOV/HMRC/income"]
    assert {f["name"]: f["label_cy"] for f in income["fields"]}["tax_code"] == "Cod treth"
