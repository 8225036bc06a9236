"""The guardian console over HTTP, on SQLite and PostgreSQL: two guardians for a high-risk
agreement (the second approval by the same guardian refused beside the field), anomaly
alerts with their evidence resolved from the page, and the kill switch pulled and
restored; each refusal shown where the guardian acted, and nothing changed by it."""

from __future__ import annotations

import html
import re
from contextlib import closing
from datetime import timedelta

import httpx
from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.domain.agreements import FieldGrant, LegalBasis, PrivacyAssessment, Risk
from onceonly.domain.anomaly import DEFAULT_RULES, RuleKind
from onceonly.domain.special_category import ProcessingCondition
from onceonly.services.agreements import DraftCommand


def console(api, label: str) -> tuple[httpx.Client, str]:
    """A signed-in browser-like client for `label`, and a CSRF token of its session."""
    client = httpx.Client(base_url=api.base_url, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)[1]
    assert client.post("/sign-in/staff", data={"csrf_token": token,
                                               "token": api.world.token(label)}
                       ).status_code == 303
    page = client.get("/guardian")
    assert page.status_code == 200, page.text
    return client, re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]


def decide(client: httpx.Client, csrf: str, agreement_id: int, action: str, reason: str):
    return client.post(f"/guardian/agreements/{agreement_id}", headers={"HX-Request": "true"},
                       data={"csrf_token": csrf, "action": action, "reason": reason})


def test_a_high_risk_agreement_needs_two_different_guardians(api):
    officer, now = api.principal("officer:GOV/DVLA"), api.clock.now()
    draft = api.exchange.agreements.draft(officer, DraftCommand(
        dataset_id="NHS/NHSE/patient-record",
        grants=[FieldGrant("fit_to_drive", "conditions", "fit_to_drive")],
        purpose_code="licence-review", purpose_text="Medical review of a licence",
        legal_basis=LegalBasis.CONSENT, valid_from=now, valid_until=now + timedelta(days=30),
        max_queries_per_day=10, retention_days=30,
        assessment=PrivacyAssessment(Risk.HIGH, "Special-category data, derived answer only",
                                     officer.name, now.date()),
        special_category_condition=ProcessingCondition.EXPLICIT_CONSENT))
    api.exchange.agreements.transition(officer, draft.id, "submit", "ready")
    first, csrf = console(api, "guardian:NHS/NHSE")
    second, csrf2 = console(api, "guardian-2:NHS/NHSE")
    with closing(first), closing(second):
        assert f'id="agreement-{draft.id}"' in first.get("/guardian").text
        once = decide(first, csrf, draft.id, "approve", "assessment reviewed")
        assert once.status_code == 200 and "approvals 1 of 2" in once.text
        twice = decide(first, csrf, draft.id, "approve", "approving again")
        assert twice.status_code == 409 and "needs a second guardian" in twice.text
        assert f'id="reason-{draft.id}-error"' in twice.text  # beside the field
        done = decide(second, csrf2, draft.id, "approve", "second review agrees")
        assert done.status_code == 200 and '<strong class="state">In force</strong>' in done.text


def test_a_guardian_sees_an_alerts_evidence_and_resumes_from_the_console(api):
    with api.exchange.engine.connect() as conn:
        people = conn.execute(select(t.person_links.c.value)
                              .where(t.person_links.c.scheme == "nino").limit(4)).scalars().all()
    api.exchange.anomaly.set_rule("COM/ACME", None, "many_persons", 4, 600)
    for nino in people:
        assert api.client.post("/v1/queries", headers=api.auth("officer:COM/ACME"), json={
            "agreement_id": 3, "subject": {"scheme": "nino", "value": nino},
            "fields": ["full_name"], "purpose": "disability-assessment"}).status_code == 200
    [alert_id] = api.exchange.anomaly.detect()

    client, csrf = console(api, "guardian:GOV/DWP")
    with closing(client):
        page = client.get("/guardian").text
        assert f'id="alert-{alert_id}"' in page
        # The rule in words, and when in UK time as people write it, not "UTC".
        assert "Many people asked about in a short time" in page and " UTC" not in page
        assert re.search(r"<dt>How many</dt><dd>4</dd>", page)  # the evidence, in words
        assert "<dt>Rule</dt><dd>Many people asked about in a short time</dd>" in page
        assert ("The agreement with reference 3 is suspended for every officer of Acme "
                "Assessments Ltd") in page
        no_reason = client.post(f"/guardian/alerts/{alert_id}", headers={"HX-Request": "true"},
                                data={"csrf_token": csrf, "action": "resume", "reason": ""})
        assert no_reason.status_code == 422 and "Say why" in no_reason.text
        resumed = client.post(f"/guardian/alerts/{alert_id}", headers={"HX-Request": "true"},
                              data={"csrf_token": csrf, "action": "resume",
                                    "reason": "ACME explained the referrals"})
        assert resumed.status_code == 200 and "Resumed" in resumed.text
    hmrc, hmrc_csrf = console(api, "guardian:GOV/HMRC")
    with closing(hmrc):
        theirs = hmrc.post(f"/guardian/alerts/{alert_id}", data={
            "csrf_token": hmrc_csrf, "action": "revoke", "reason": "not mine to revoke"})
        assert theirs.status_code == 404
    with api.exchange.uows() as uow:
        assert uow.agreements.get(3).status.value == "approved"


def test_an_officers_alert_says_the_officer_is_suspended_not_the_agreement(api):
    dwp = api.principal("officer:GOV/DWP")
    api.exchange.anomaly.set_rule("GOV/DWP", None, "sequential_ids", 6, 600)
    try:
        for n in range(6):  # identifiers in a row that nobody holds
            assert api.client.post("/v1/queries", headers=api.auth("officer:GOV/DWP"), json={
                "agreement_id": 1, "subject": {"scheme": "nino", "value": f"ZZ{900200 + n}Z"},
                "fields": ["income_band"], "purpose": "benefit-entitlement"}
            ).status_code == 404
        [alert_id] = api.exchange.anomaly.detect()
    finally:
        default = DEFAULT_RULES[RuleKind.SEQUENTIAL_IDS]
        api.exchange.anomaly.set_rule("GOV/DWP", None, "sequential_ids", default.threshold,
                                        int(default.window.total_seconds()))
    client, csrf = console(api, "guardian:GOV/HMRC")
    with closing(client):
        page = client.get("/guardian").text
        alert = page[page.index(f'id="alert-{alert_id}"'):]
        alert = alert[:alert.index("</article>")]
        words = html.unescape(alert)  # organisations by name, the officer by reference
        reference = dwp.id[-12:]
        assert (f"An officer at Department for Work and Pensions (reference {reference}) "
                "is suspended from HM Revenue & Customs's data, under the agreement with "
                "reference 1") in words
        assert "carries on for Department for Work and Pensions's other officers" in words
        assert "officer <code>" not in words and "GOV/DWP" not in words
        assert "suspended for every officer" not in alert
        resumed = client.post(f"/guardian/alerts/{alert_id}", headers={"HX-Request": "true"},
                              data={"csrf_token": csrf, "action": "resume",
                                    "reason": "a data-quality sweep, agreed in advance"})
        assert resumed.status_code == 200 and "Resumed" in resumed.text
    with api.exchange.uows() as uow:
        assert uow.agreements.get(1).status.value == "approved"  # never suspended


def test_the_kill_switch_is_pulled_and_restored_from_its_page(api):
    client, csrf = console(api, "guardian:GOV/HMRC")
    with closing(client):
        form = client.get("/guardian/kill-switch").text
        assert '<option value="COM/NORTHBANK">Northbank plc</option>' in form
        refused = client.post("/guardian/kill-switch", data={
            "csrf_token": csrf, "consumer": "COM/NORTHBANK", "reason": ""})
        assert refused.status_code == 422 and 'id="reason-error"' in refused.text
        asked = client.post("/guardian/kill-switch", data={
            "csrf_token": csrf, "consumer": "COM/NORTHBANK", "reason": "suspected breach"})
        assert asked.status_code == 200 and "Are you sure you want to cut off" in asked.text
        with api.exchange.uows() as uow:
            assert uow.agreements.get(4).status.value == "approved"  # not until confirmed
        pulled = client.post("/guardian/kill-switch", data={
            "csrf_token": csrf, "consumer": "COM/NORTHBANK", "reason": "suspected breach",
            "confirmed": "yes"})
        assert pulled.status_code == 200 and "1 agreement(s) with Northbank plc" in pulled.text
        with api.exchange.uows() as uow:
            assert uow.agreements.get(4).status.value == "suspended"
        switch_id = re.search(r"/guardian/kill-switch/(\d+)/restore", pulled.text)[1]
        restored = client.post(f"/guardian/kill-switch/{switch_id}/restore", data={
            "csrf_token": csrf, "reason": "breach ruled out"})
        assert restored.status_code == 200 and f"Switch {switch_id} restored" in restored.text
        assert "UTC" not in restored.text
        assert re.search(r"pulled \d{1,2} [A-Z][a-z]+ \d{4}, \d{1,2}:\d{2}[ap]m",
                         restored.text)
    with api.exchange.uows() as uow:
        assert uow.agreements.get(4).status.value == "approved"


def test_a_decision_without_its_csrf_token_or_session_changes_nothing(api):
    client, _csrf = console(api, "guardian:GOV/HMRC")
    with closing(client):
        forged = client.post("/guardian/agreements/1", data={
            "action": "revoke", "reason": "a page on another site posted this"})
        assert forged.status_code == 403 and "This form could not be checked" in forged.text
    with httpx.Client(base_url=api.base_url, timeout=30) as stranger:
        anonymous = stranger.post("/guardian/agreements/1", data={
            "action": "revoke", "reason": "no session at all"})
        assert anonymous.status_code == 401 and "Sign in first" in anonymous.text
    with api.exchange.uows() as uow:
        assert uow.agreements.get(1).status.value == "approved"


def test_the_console_lists_the_organisations_datasets_with_each_version(api):
    with api.exchange.engine.connect() as conn:
        row = conn.execute(select(t.datasets).where(t.datasets.c.id == "GOV/DVLA/licences")).one()
    fields = [{k: f[k] for k in ("name", "type", "sensitivity", "source")}
              | {"label": f["name"], "description": ""} for f in row.fields]
    published = api.client.post("/v1/datasets", headers=api.auth("guardian:GOV/DVLA"), json={
        "system": row.id, "title": "Driving licences, described again",
        "subject_scheme": row.subject_scheme, "fields": fields,
        "connector": dict(row.connector)})
    assert published.status_code == 201, published.text
    client, _ = console(api, "guardian:GOV/DVLA")
    with closing(client):
        page = client.get("/guardian").text
    assert "<title>Guardian console – Tell government once</title>" in page
    assert page.count('id="datasets-heading"') == 1
    section = page[page.index('id="datasets-heading"'):]
    assert 'id="dataset-GOV-DVLA-licences"' in section
    assert "version 2" in section  # the dataset's latest, and each version as a row
    assert "<tr><td>1</td>" in section and "<tr><td>2</td>" in section
    assert api.principal("guardian:GOV/DVLA").id[-12:] in section  # the publisher's reference
    assert api.principal("guardian:GOV/DVLA").id not in section  # never the whole id
    assert "GOV/HMRC/income" not in section  # another organisation's
