"""The guardian's page for one agreement, over HTTP on SQLite and PostgreSQL: everything a
guardian decides from in words, the consumer's other agreements and past alerts; revoking
asks for confirmation on a page of its own before anything changes."""

from __future__ import annotations

import re
from contextlib import closing

from tests.e2e.test_web_guardian import console


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_agreement_page_says_everything_a_guardian_decides_from(api):
    client, _csrf = console(api, "guardian:NHS/NHSE")
    with closing(client):
        page = client.get("/guardian/agreements/6")
    assert page.status_code == 200, page.text
    text = text_of(page.text)
    for words in ("Driver and Vehicle Licensing Agency asks for information from NHS England",
                  "Confirm medical fitness to drive without seeing conditions",
                  "The person's consent", "UK GDPR Article 9(2)(a)",
                  "Medical conditions", "Recorded conditions (special category)",
                  "Special category", "Only an answer worked out from it",
                  "Kept for 365 days", "At most 100,000 questions a day",
                  "Bulk extracts Not allowed", "the person sees each access at once",
                  "By an officer at Driver and Vehicle Licensing Agency",
                  "Reference: DPIA-006", "High risk, assessed by", "Approvals 2 of 2",
                  "Other agreements of Driver and Vehicle Licensing Agency",
                  "With General Register Office",
                  "Past alerts about Driver and Vehicle Licensing Agency"):
        assert words in text.replace("&#39;", "'"), words
    assert "conditions</code>" not in page.text  # no column names for the guardian


def test_another_organisations_agreement_is_not_shown(api):
    client, _csrf = console(api, "guardian:GOV/HMRC")
    with closing(client):
        page = client.get("/guardian/agreements/6")
    assert page.status_code == 404
    assert "Medical conditions" not in page.text


def test_revoking_asks_for_confirmation_on_its_own_page_first(api):
    client, csrf = console(api, "guardian:GOV/HMRC")
    with closing(client):
        asked = client.post("/guardian/agreements/4", data={
            "csrf_token": csrf, "action": "revoke", "reason": "contract ended"})
        assert asked.status_code == 200
        assert "Are you sure you want to revoke this agreement?" in asked.text
        assert "agreement reference 4" in asked.text  # by its purpose; the number aside
        assert 'name="confirmed" value="yes"' in asked.text and "contract ended" in asked.text
        from_console = client.post("/guardian/agreements/4", headers={"HX-Request": "true"},
                                   data={"csrf_token": csrf, "action": "revoke",
                                         "reason": "contract ended"})
        assert from_console.headers["HX-Redirect"] == (
            "/guardian/agreements/4/revoke?reason=contract+ended")
        with api.exchange.uows() as uow:
            assert uow.agreements.get(4).status.value == "approved"
        confirm_page = client.get("/guardian/agreements/4/revoke?reason=contract+ended")
        assert confirm_page.status_code == 200 and "Yes, revoke this agreement" in confirm_page.text
        done = client.post("/guardian/agreements/4", data={
            "csrf_token": csrf, "action": "revoke", "reason": "contract ended",
            "confirmed": "yes"})
        assert done.status_code == 200
    with api.exchange.uows() as uow:
        assert uow.agreements.get(4).status.value == "revoked"
