"""Tell us once, accuracy challenges, the guardian's queues and the delivery figures over
HTTP, without a browser, on SQLite and PostgreSQL: a citizen's report from the form (its
refusals beside the field, nothing written), the status page polling until settled, the
informant's view of a death, a challenge refused and raised, a dead letter sent again by
its own guardian only, and the refusals of another citizen's report, another
organisation's delivery, challenge or link, and a form without its token; the dashboard
showing what /metrics exposes."""

from __future__ import annotations

import html
import re
import time
from contextlib import closing
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from onceonly.adapters.db import tables as t
from onceonly.demo.citizens import open_citizen_accounts
from onceonly.domain.agreements import FieldGrant, LegalBasis, PrivacyAssessment, Risk
from onceonly.domain.life_events import RetryPolicy
from onceonly.entrypoints.worker import WorkerThread
from onceonly.services.agreements import DraftCommand
from onceonly.services.delivery import DeliveryService
from tests.e2e.test_web_guardian import console
from tests.e2e.test_web_sign_in import csrf_of, sign_in

PASSWORD = "a long second password"
ADDRESS = "gov.onceonly.address.changed"
CLOSED_PORT = "http://127.0.0.1:9"  # discard: nothing listens on it


@pytest.fixture(scope="module")
def citizens(api):
    """The demo citizen's login, and a second citizen's."""
    [first] = open_citizen_accounts(api.exchange, api.world)
    with api.exchange.engine.connect() as conn:
        other = conn.execute(
            select(t.person_links.c.person_key)
            .where(t.person_links.c.person_key != api.world.citizen_ids["person_key"])
            .limit(1)).scalar_one()
    api.exchange.accounts.open_account("other-citizen", PASSWORD, person_key=other)
    return first


def citizen_client(api, login: str, password: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=api.base_url, timeout=30)
    assert sign_in(client, login, password).status_code == 303
    return client, csrf_of(client.get("/citizen/tell-us-once"))


def tell_through_pages(client: httpx.Client, csrf: str, event_type: str,
                       answers: list[tuple[str, dict]], tell: list[str],
                       send: bool = True) -> httpx.Response:
    """Answers each question page in turn, as a browser would post them, then sends from
    check your answers: the first page that does not go on (its refusal), else the send's."""
    for step, fields in [("what", {"type": event_type}), *answers, ("tell", {"tell": tell})]:
        answered = client.post(f"/citizen/tell-us-once/{step}",
                               data={"csrf_token": csrf, **fields})
        if answered.status_code != 303:
            return answered
    checked = client.get("/citizen/tell-us-once/check")
    assert checked.status_code == 200
    if not send:
        return checked
    return client.post("/citizen/tell-us-once", data={"csrf_token": csrf})


def date_typed(name: str, day: str, month: str, year: str) -> dict[str, str]:
    return {f"data-{name}-day": day, f"data-{name}-month": month, f"data-{name}-year": year}


def report_address(client: httpx.Client, csrf: str, tell: list[str],
                   address: tuple[str, str, str] = ("1 New Street", "Northtown", "NT1 1AA"),
                   moved: tuple[str, str, str] = ("1", "11", "2026"),
                   send: bool = True) -> httpx.Response:
    line1, town, postcode = address
    return tell_through_pages(client, csrf, ADDRESS, [
        ("new_address", {"address-line1": line1, "address-town": town,
                         "address-postcode": postcode}),
        ("effective_date", date_typed("effective_date", *moved))], tell, send)


def take_from_inboxes(api, orgs: list[str]) -> None:
    """Each organisation reads its inbox and acknowledges every notification there."""
    for org in orgs:
        for item in api.client.get("/v1/inbox", headers=api.auth(f"officer:{org}")).json():
            assert api.client.post(f"/v1/inbox/{item['delivery_id']}/ack",
                                   headers=api.auth(f"officer:{org}")).status_code == 200


def reports(api) -> int:
    with api.exchange.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.life_event_reports)).scalar_one()


def test_a_citizen_tells_a_change_of_address_to_whom_they_chose_and_watches_it(api, citizens):
    client, csrf = citizen_client(api, citizens.login, citizens.password)
    with closing(client):
        client.post("/citizen/tell-us-once/what", data={"csrf_token": csrf, "type": ADDRESS})
        form = client.get("/citizen/tell-us-once/tell").text
        for org in ("GOV/HMRC", "GOV/DWP", "GOV/DVLA", "LA/NORTHSHIRE", "NHS/NHSE"):
            assert f'name="tell" value="{org}" checked' in form
        sent = report_address(client, csrf, ["GOV/HMRC", "LA/NORTHSHIRE"],
                              ("1 New Street", "Northtown", "nt1 1aa"))
        assert sent.status_code == 303, sent.text
        page_url = sent.headers["location"]
        page = client.get(page_url)
        assert page.status_code == 200
        assert 'hx-trigger="every 2s"' in page.text  # pending: it polls
        assert page.text.count("<strong>pending</strong>") == 2
        assert "Department for Work and Pensions: you chose not to tell it" in page.text
        take_from_inboxes(api, ["GOV/HMRC", "LA/NORTHSHIRE"])
        settled = client.get(page_url, headers={"HX-Request": "true"})
        assert settled.status_code == 200 and "<html" not in settled.text  # the partial
        assert settled.text.count("<strong>delivered</strong>") == 2
        assert "hx-trigger" not in settled.text  # all delivered: polling stops
        mine = client.get("/citizen/reports").text
        assert page_url.removesuffix("?sent=1") in mine and "Change of address" in mine


def test_a_report_refused_shows_why_beside_the_field_and_writes_nothing(api, citizens):
    client, csrf = citizen_client(api, citizens.login, citizens.password)
    before = reports(api)
    with closing(client):
        missing = report_address(client, csrf, ["GOV/HMRC"], ("", "Northtown", "NT1 1AA"))
        assert missing.status_code == 422 and 'id="address-line1-error"' in missing.text
        no_postcode = report_address(client, csrf, ["GOV/HMRC"], ("2 Road", "Northtown", "NT1"))
        assert no_postcode.status_code == 422
        assert 'id="address-postcode-error"' in no_postcode.text
        assert "Enter a real UK postcode" in no_postcode.text
        assert 'value="NT1"' in no_postcode.text  # as typed, to put right
        bad_date = report_address(client, csrf, ["GOV/HMRC"], moved=("31", "2", "2026"))
        assert bad_date.status_code == 422 and 'id="effective_date-error"' in bad_date.text
        assert "Enter a real date" in bad_date.text
        part_date = report_address(client, csrf, ["GOV/HMRC"], moved=("1", "", "2026"))
        assert part_date.status_code == 422 and "a day, a month and a year" in part_date.text
        not_subscribed = report_address(client, csrf, ["GOV/HMPO"])
        assert not_subscribed.status_code == 422
        assert 'id="tell-error"' in not_subscribed.text
        assert "cannot be told of this change" in not_subscribed.text
        kept = client.get("/citizen/tell-us-once/check").text  # the answers are kept
        assert "1 New Street<br>Northtown<br>NT1 1AA" in kept
    assert reports(api) == before


def test_a_citizen_cannot_open_another_citizens_report(api, citizens):
    client, csrf = citizen_client(api, citizens.login, citizens.password)
    with closing(client):
        theirs = report_address(client, csrf, ["GOV/DVLA"]).headers["location"]
    other, _ = citizen_client(api, "other-citizen", PASSWORD)
    with closing(other):
        refused = other.get(theirs)
        assert refused.status_code == 404 and "report_unknown" in refused.text
        assert "3 Lane" not in refused.text and "Driver and Vehicle Licensing" not in refused.text
        assert theirs not in other.get("/citizen/reports").text
        assert other.get(theirs, headers={"HX-Request": "true"}).status_code == 404


def test_a_challenge_is_refused_beside_the_field_then_raised_and_corrected(api, citizens):
    client, _ = citizen_client(api, citizens.login, citizens.password)
    with closing(client):
        csrf = csrf_of(client.get("/citizen/challenges"))
        listed = client.get("/citizen/challenges").text  # picked from a list, not typed
        assert 'name="held" type="radio" value="GOV/DVLA/licences#address"' in listed
        assert 'name="field"' not in listed
        none_picked = client.post("/citizen/challenges", data={
            "csrf_token": csrf, "what_is_wrong": "wrong"})
        assert none_picked.status_code == 422 and 'id="held-error"' in none_picked.text
        hidden = client.post("/citizen/challenges", data={
            "csrf_token": csrf, "held": "GOV/DVLA/licences#no_such_field",
            "what_is_wrong": "wrong"})
        assert hidden.status_code == 403 and 'id="held-error"' in hidden.text
        assert "field_not_visible" not in hidden.text
        assert "That value cannot be challenged here" in hidden.text
        raised = client.post("/citizen/challenges", data={
            "csrf_token": csrf, "held": "GOV/DVLA/licences#address",
            "what_is_wrong": "I moved in October", "proposed_value": "4 Close, Northtown"})
        assert raised.status_code == 200
        assert "sent to Driver and Vehicle Licensing Agency" in raised.text
        challenge_id = int(re.search(r"Challenge (\d+) sent", raised.text)[1])

    hmrc, hmrc_csrf = console(api, "guardian:GOV/HMRC")
    with closing(hmrc):
        assert f'id="challenge-{challenge_id}"' not in hmrc.get("/guardian/queues").text
        theirs = hmrc.post(f"/guardian/challenges/{challenge_id}", data={
            "csrf_token": hmrc_csrf, "action": "reject", "reason": "not ours"})
        assert theirs.status_code == 404
    dvla, dvla_csrf = console(api, "guardian:GOV/DVLA")
    with closing(dvla):
        queue = dvla.get("/guardian/queues").text
        assert f'id="challenge-{challenge_id}"' in queue and "I moved in October" in queue
        no_reason = dvla.post(f"/guardian/challenges/{challenge_id}", data={
            "csrf_token": dvla_csrf, "action": "correct", "value": "4 Close, Northtown",
            "reason": ""})
        assert no_reason.status_code == 422
        assert f'id="challenge-reason-{challenge_id}-error"' in no_reason.text
        done = dvla.post(f"/guardian/challenges/{challenge_id}", data={
            "csrf_token": dvla_csrf, "action": "correct", "value": "4 Close, Northtown",
            "reason": "checked with the council"})
        assert done.status_code == 200 and f"Challenge {challenge_id} corrected" in done.text
    with closing(citizen_client(api, citizens.login, citizens.password)[0]) as client:
        row = re.search(rf'<tr id="challenge-{challenge_id}">.*?</tr>',
                        client.get("/citizen/challenges").text, re.S)[0]
        assert "corrected" in row and "checked with the council" in row


def test_a_dead_letter_is_sent_again_by_its_own_guardian_only(api, citizens):
    dwp_guardian = api.principal("guardian:GOV/DWP")
    api.exchange.life_events.set_endpoint(dwp_guardian, f"{CLOSED_PORT}/GOV/DWP")
    try:
        client, csrf = citizen_client(api, citizens.login, citizens.password)
        with closing(client):
            assert report_address(client, csrf, ["GOV/DWP"]).status_code == 303
        worker = WorkerThread(DeliveryService(
            api.exchange.uows, api.exchange.clock, api.exchange.envelopes, api.exchange.key_store,
            "GOV/EXCHANGE", RetryPolicy(max_attempts=1)), batch=20, timeout=2).start()
        try:
            deadline = time.monotonic() + 30
            while not api.exchange.life_events.dead_letters(dwp_guardian):
                assert time.monotonic() < deadline, "no delivery was dead-lettered"
                time.sleep(0.1)
        finally:
            worker.stop()
        [letter] = api.exchange.life_events.dead_letters(dwp_guardian)

        hmrc, hmrc_csrf = console(api, "guardian:GOV/HMRC")
        with closing(hmrc):
            assert letter.id not in hmrc.get("/guardian/queues").text
            theirs = hmrc.post(f"/guardian/deliveries/{letter.id}/redeliver",
                               data={"csrf_token": hmrc_csrf})
            assert theirs.status_code == 404 and "delivery_unknown" in theirs.text
        assert api.exchange.life_events.dead_letters(dwp_guardian) == [letter]
        dwp, dwp_csrf = console(api, "guardian:GOV/DWP")
        with closing(dwp):
            assert f'id="dead-{letter.id}"' in dwp.get("/guardian/queues").text
            forged = dwp.post(f"/guardian/deliveries/{letter.id}/redeliver", data={})
            assert forged.status_code == 403 and "This form could not be checked" in forged.text
            assert api.exchange.life_events.dead_letters(dwp_guardian) == [letter]
            again = dwp.post(f"/guardian/deliveries/{letter.id}/redeliver",
                             data={"csrf_token": dwp_csrf})
            assert again.status_code == 200 and "queued again" in again.text
            assert f'id="dead-{letter.id}"' not in again.text
    finally:
        api.exchange.life_events.set_endpoint(dwp_guardian, None)


def test_a_report_without_its_csrf_token_is_refused_and_writes_nothing(api, citizens):
    client, csrf = citizen_client(api, citizens.login, citizens.password)
    before = reports(api)
    with closing(client):
        assert report_address(client, "", ["GOV/HMRC"]).status_code == 403  # every page
        assert report_address(client, csrf, ["GOV/HMRC"], send=False).status_code == 200
        forged = client.post("/citizen/tell-us-once", data={})
        assert forged.status_code == 403 and "This form could not be checked" in forged.text
    assert reports(api) == before


def test_the_dashboard_and_metrics_show_the_same_delivery_figures(api, citizens):
    client, csrf = citizen_client(api, citizens.login, citizens.password)
    with closing(client):
        assert report_address(client, csrf, ["GOV/HMRC", "NHS/NHSE"]).status_code == 303
    take_from_inboxes(api, ["GOV/HMRC"])
    with httpx.Client(base_url=api.base_url, timeout=30) as manager:
        token = csrf_of(manager.get("/sign-in"))
        manager.post("/sign-in/staff", data={"csrf_token": token,
                                             "token": api.world.token("manager")})
        page = manager.get("/manager").text
    metrics = api.client.get("/metrics", headers=api.auth("manager")).text
    exposed = {(m[1], m[2]): int(float(m[3])) for m in re.finditer(
        r'onceonly_deliveries_last_24h\{receiver="([^"]+)",status="(\w+)"\} ([0-9.e+]+)',
        metrics)}
    assert exposed[("GOV/HMRC", "delivered")] >= 1
    table = re.search(r'<table[^>]* id="delivery-figures">.*?</table>', page, re.S)[0]
    names = {o.id: o.name for o in api.exchange.catalogue.read().organisations}
    for receiver in {r for r, _ in exposed}:  # each organisation by name
        name = html.escape(names[receiver], quote=False)
        row = re.search(rf"<tr><td>{re.escape(name)}</td>(.*?)</tr>", table, re.S)[1]
        cells = re.findall(r"<td>([^<]*)</td>", row)
        assert [int(c) for c in cells[2:]] == [exposed[(receiver, s)] for s in
                                               ("pending", "delivered", "failed")]
    assert 'onceonly_delivery_seconds_last_24h{quantile="0.99",receiver="GOV/HMRC"}' \
        in metrics or \
        'onceonly_delivery_seconds_last_24h{receiver="GOV/HMRC",quantile="0.99"}' in metrics
    assert exposed[("NHS/NHSE", "pending")] >= 1


def test_an_informant_sees_the_death_they_reported_among_their_reports(api, citizens):
    with api.exchange.engine.connect() as conn:
        deceased = conn.execute(
            select(t.person_links.c.value).where(
                t.person_links.c.scheme == "grn",  # someone without an account here
                t.person_links.c.person_key.not_in(select(t.citizen_accounts.c.person_key)))
            .limit(1)).scalar_one()
    told = api.client.post("/v1/events", headers=api.auth("officer:GOV/GRO"), json={
        "specversion": "1.0", "id": f"web-death-{deceased}", "source": "GOV/GRO/deaths",
        "type": "gov.onceonly.death.registered", "subject": f"grn:{deceased}",
        "informant": f"grn:{api.world.citizen_ids['grn']}",
        "data": {"full_name": "A Relative", "date_of_death": "2026-11-20"}})
    assert told.status_code == 202, told.text
    report_id = told.json()["report_id"]
    client, _ = citizen_client(api, citizens.login, citizens.password)
    with closing(client):
        mine = client.get("/citizen/reports").text
        row = re.search(rf"<tr>(?:(?!</tr>).)*/citizen/reports/{report_id}.*?</tr>", mine, re.S)[0]
        assert "Death registered" in row and "someone you are the informant for" in row
        page = client.get(f"/citizen/reports/{report_id}")
        assert page.status_code == 200 and "you are the informant for" in page.text
    other, _ = citizen_client(api, "other-citizen", PASSWORD)
    with closing(other):
        assert other.get(f"/citizen/reports/{report_id}").status_code == 404


def test_a_link_of_another_organisations_identifier_is_refused_and_left_waiting(api):
    api.exchange.identity.match("GOV/DVLA")
    dvla = api.principal("guardian:GOV/DVLA")
    candidate = api.exchange.identity.candidates(dvla)[0]
    hmrc, csrf = console(api, "guardian:GOV/HMRC")
    with closing(hmrc):
        assert f'id="link-{candidate.id}"' not in hmrc.get("/guardian/queues").text
        theirs = hmrc.post(f"/guardian/links/{candidate.id}", data={
            "csrf_token": csrf, "action": "confirm", "reason": "looks right to me"})
        assert theirs.status_code == 403 and "not_your_identifier" in theirs.text
        no_action = hmrc.post(f"/guardian/links/{candidate.id}", data={
            "csrf_token": csrf, "reason": "no action chosen"})
        assert no_action.status_code == 422
    assert candidate.id in {c.id for c in api.exchange.identity.candidates(dvla)}


def test_the_change_of_name_form_is_drawn_from_its_schema(api, citizens):
    client, csrf = citizen_client(api, citizens.login, citizens.password)
    with closing(client):
        chooser = client.get("/citizen/tell-us-once").text
        assert 'value="gov.onceonly.name.changed"' in chooser
        assert "gov.onceonly.death.registered" not in chooser  # the registrar's to report
        assert client.post("/citizen/tell-us-once/what", data={
            "csrf_token": csrf, "type": "gov.onceonly.death.registered"}).status_code == 422
        name = "gov.onceonly.name.changed"
        client.post("/citizen/tell-us-once/what", data={"csrf_token": csrf, "type": name})
        new_name = client.get("/citizen/tell-us-once/new_full_name").text  # one question
        assert re.search(r'<label[^>]*for="new_full_name">What is your new name\?</label>',
                         new_name)
        assert 'name="data-new_full_name"' in new_name and "effective_date" not in new_name
        assert "What name did you use before? (optional)" in client.get(
            "/citizen/tell-us-once/previous_full_name").text
        when = client.get("/citizen/tell-us-once/effective_date").text
        assert re.search(r'id="effective_date-day" name="data-effective_date-day"', when)
        assert re.search(r'id="effective_date-year" name="data-effective_date-year"', when)
        assert client.get("/citizen/tell-us-once/check").headers["location"] == (
            "/citizen/tell-us-once/new_full_name")  # nothing to check before it is answered
        sent = tell_through_pages(client, csrf, name, [
            ("new_full_name", {"data-new_full_name": "Alex Newname"}),
            ("previous_full_name", {"data-previous_full_name": ""}),
            ("effective_date", date_typed("effective_date", "15", "11", "2026"))], ["GOV/HMRC"])
        assert sent.status_code == 303
        assert "Change of name" in client.get(sent.headers["location"]).text


def test_an_organisation_the_law_requires_to_be_told_cannot_be_left_out(api, citizens):
    """(Last in this module: it adds a statutory subscriber to changes of address.)"""
    now = api.clock.now()
    veterans = api.principal("guardian:GOV/VETERANS")
    draft = api.exchange.agreements.draft(veterans, DraftCommand(
        dataset_id="GOV/EXCHANGE/changes-of-address",
        grants=[FieldGrant("new_address", "new_address")], purpose_code="pension-address",
        purpose_text="Send the pension to the right address",
        legal_basis=LegalBasis.STATUTORY_DUTY, valid_from=now - timedelta(minutes=1),
        valid_until=now + timedelta(days=30), max_queries_per_day=1, retention_days=30,
        assessment=PrivacyAssessment(Risk.LOW, "The address only", veterans.name, now.date())))
    api.exchange.agreements.transition(veterans, draft.id, "submit", "ready")
    api.exchange.agreements.transition(api.principal("guardian:GOV/EXCHANGE"), draft.id,
                                       "approve", "a duty to know")
    client, csrf = citizen_client(api, citizens.login, citizens.password)
    before = reports(api)
    with closing(client):
        client.post("/citizen/tell-us-once/what", data={"csrf_token": csrf, "type": ADDRESS})
        form = client.get("/citizen/tell-us-once/tell").text
        assert '<input type="hidden" name="tell" value="GOV/VETERANS">' in form
        assert re.search(r'<input type="checkbox" checked disabled[^>]*>\s*<label[^>]*>'
                         r'Veterans UK', form)
        left_out = report_address(client, csrf, ["GOV/HMRC"])  # the hidden input removed
        assert left_out.status_code == 422 and 'id="tell-error"' in left_out.text
        assert "The law requires some of these organisations to be told" in left_out.text
        assert reports(api) == before
        told = report_address(client, csrf, ["GOV/HMRC", "GOV/VETERANS"])
        assert told.status_code == 303
        page = client.get(told.headers["location"]).text
        assert "Veterans UK" in page
