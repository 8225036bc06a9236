"""The web portals: server-rendered pages over the same use cases as the API, one module per
portal (sign_in, citizen, verify_in_browser, tell_us_once, guardian, guardian_agreement,
guardian_challenge, guardian_queues, manager, manager_queue, and the public register)
sharing the machinery in portal.py. Thin: read the form, check its CSRF token, call a use
case, render what it returned or why it refused. No rule lives here or in a template."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from onceonly.bootstrap import Exchange
from onceonly.config import govuk_brand
from onceonly.entrypoints.web.citizen import CitizenPages
from onceonly.entrypoints.web.guardian import GuardianPages
from onceonly.entrypoints.web.guardian_agreement import GuardianAgreementPages
from onceonly.entrypoints.web.guardian_challenge import GuardianChallengePages
from onceonly.entrypoints.web.guardian_queues import GuardianQueuePages
from onceonly.entrypoints.web.info import BrowserErrors, InfoPages
from onceonly.entrypoints.web.manager import ManagerPages
from onceonly.entrypoints.web.manager_queue import ManagerQueuePages
from onceonly.entrypoints.web.portal import PageRefused, Portal
from onceonly.entrypoints.web.register import RegisterPages
from onceonly.entrypoints.web.sign_in import SignInPages
from onceonly.entrypoints.web.single_sign_on import SingleSignOnPages, sign_in_options
from onceonly.entrypoints.web.tell_us_once import TellUsOncePages
from onceonly.entrypoints.web.verify_in_browser import VerifyInBrowserPages

STATIC = Path(__file__).parent / "static"


def mount_web(app: FastAPI, exchange: Exchange, registry: CollectorRegistry) -> None:
    """The portals and their vendored assets, on `app`. `registry`: the process's metrics,
    whose decision counters the manager's page shows."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # GOV.UK Frontend's stylesheet asks for its fonts and images under /assets.
    app.mount("/assets", StaticFiles(directory=STATIC / "vendor" / "govuk-frontend" / "assets"),
              name="govuk-assets")
    app.add_exception_handler(PageRefused, lambda _request, refused: refused.response)
    portal = Portal(exchange.accounts, exchange.web_forms_key,
                    partial(sign_in_options, exchange.single_sign_on), brand=govuk_brand(),
                    organisation_names=lambda: {
                        o.id: o.name for o in exchange.catalogue.read().organisations})
    app.add_middleware(BrowserErrors, portal=portal)  # outermost: sees the API's faults too
    agreement_pages = GuardianAgreementPages(
        portal, agreements=exchange.agreements, anomaly=exchange.anomaly,
        catalogue=exchange.catalogue, register=exchange.register)
    pages = (
        SignInPages(portal, exchange.accounts, exchange.single_sign_on),
        SingleSignOnPages(portal, exchange.single_sign_on),
        CitizenPages(portal, audit=exchange.audit, verifier=exchange.entry_verification,
                     accounts=exchange.accounts, consents=exchange.consents,
                     accuracy=exchange.accuracy, clock=exchange.clock),
        TellUsOncePages(portal, exchange.life_events),
        GuardianPages(portal, agreements=exchange.agreements, anomaly=exchange.anomaly,
                      kill_switch=exchange.kill_switch, clock=exchange.clock,
                      catalogue=exchange.catalogue, confirmations=agreement_pages),
        agreement_pages,
        GuardianQueuePages(portal, life_events=exchange.life_events,
                           accuracy=exchange.accuracy, identity=exchange.identity),
        ManagerPages(portal, exchange.dashboard, registry, exchange.agreements,
                     exchange.connectors.breakers),
        RegisterPages(portal, exchange.register),
        ManagerQueuePages(portal, exchange.work_queue),
        VerifyInBrowserPages(portal, exchange.audit),
        GuardianChallengePages(portal, exchange.accuracy, exchange.catalogue),
        InfoPages(portal),
    )
    for portal_pages in pages:
        app.include_router(portal_pages.router())
