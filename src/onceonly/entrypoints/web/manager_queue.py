"""The manager's work queue as a page: what waits on someone across the exchange, each item
with how long it has waited; one chart of the counts, with its table beside it."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from babel.dates import format_timedelta
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from onceonly.domain.organisations import Role
from onceonly.entrypoints.web import i18n
from onceonly.entrypoints.web.i18n import N_
from onceonly.entrypoints.web.portal import Portal
from onceonly.services.work_queue import WorkQueue, WorkQueueService

MANAGER = {Role.MANAGER, Role.ADMIN}
UNDER_AN_HOUR = N_("under an hour")


def waited(span: timedelta, language: str = i18n.DEFAULT) -> str:
    """A wait in words, to the hour, in the page's language (Babel): "3 days, 4 hours",
    "5 hours", "under an hour"."""
    days, hours = span.days, span.seconds // 3600
    parts = ([format_timedelta(timedelta(days=days), granularity="day", threshold=1000,
                               locale=language)] if days > 0 else []) + (
        [format_timedelta(timedelta(hours=hours), granularity="hour", threshold=1000,
                          locale=language)] if hours else [])
    return ", ".join(parts) or i18n.translations(language).gettext(UNDER_AN_HOUR)


def queue_counts(queue: WorkQueue) -> dict[str, Any]:
    """What the page's chart draws (queue.js reads it as JSON), the same as its table."""
    overdue = sum(1 for c in queue.challenges if c.overdue)
    return {"labels": [N_("Agreements awaiting a decision"), N_("Open alerts"),
                       N_("Challenges within a month"), N_("Challenges past a month"),
                       N_("Dead-lettered deliveries")],
            "counts": [len(queue.awaiting), len(queue.alerts),
                       len(queue.challenges) - overdue, overdue, len(queue.dead_letters)]}


class ManagerQueuePages:
    def __init__(self, portal: Portal, work_queue: WorkQueueService) -> None:
        self.portal = portal
        self.work_queue = work_queue

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        router.add_api_route("/manager/queue", self.queue_page, methods=["GET"])
        return router

    def queue_page(self, request: Request) -> HTMLResponse:
        manager = self.portal.signed_in(request, MANAGER)
        queue = self.work_queue.read(manager)
        counts = queue_counts(queue)
        return self.portal.render(request, "manager/queue.html", queue=queue,
                                  chart=counts, rows=list(zip(counts["labels"],
                                                              counts["counts"], strict=True)),
                                  waited=partial(waited, language=i18n.language_of(request)))
