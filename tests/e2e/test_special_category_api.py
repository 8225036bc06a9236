"""An agreement releasing special-category data names its UK GDPR Article 9 condition, or
its submission is refused (422 `special_category_condition_missing`, audited, unchanged)."""

from __future__ import annotations

from tests.e2e.conftest import Api
from tests.e2e.test_api import (
    agreement_row,
    assert_lifecycle_refused,
    create,
    fit_to_drive_body,
    moved,
)

DVLA_OFFICER = "officer:GOV/DVLA"


def test_special_category_data_without_an_article_9_condition_cannot_be_submitted(
        api: Api) -> None:
    draft = create(api, DVLA_OFFICER, fit_to_drive_body(api, "high", condition=None))
    assert (draft["special_category"], draft["special_category_condition"]) == (True, None)
    assert_lifecycle_refused(api, draft["id"], DVLA_OFFICER, "submit", 422,
                             "special_category_condition_missing")
    assert agreement_row(api, draft["id"]).status == "draft"


def test_a_named_condition_is_kept_and_lets_the_agreement_be_submitted(api: Api) -> None:
    body = fit_to_drive_body(api, "high", "health-social-care")
    body["privacy_assessment"]["reference"] = "DPIA-2026-17"
    draft = create(api, DVLA_OFFICER, body)
    assert draft["special_category_condition"] == "health-social-care"
    assert draft["privacy_assessment"]["reference"] == "DPIA-2026-17"  # the DPIA's own
    assert agreement_row(api, draft["id"]).special_category_condition == "health-social-care"
    assert moved(api, DVLA_OFFICER, draft["id"], "submit")["status"] == "submitted"


def test_an_unknown_condition_is_refused_as_invalid(api: Api) -> None:
    body = fit_to_drive_body(api, "high", "because-we-said-so")
    refused = api.client.post("/v1/agreements", json=body, headers=api.auth(DVLA_OFFICER))
    assert refused.status_code == 422
