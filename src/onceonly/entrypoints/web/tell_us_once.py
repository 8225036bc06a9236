"""The citizen's tell-us-once pages: report a change of name or address once, choosing whom
to tell, and watch each organisation's delivery; list my reports. Thin: the forms are drawn
from what the use case publishes (the event types' JSON Schemas, the subscribers), and every
rule is its own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onceonly.domain.errors import DomainError
from onceonly.domain.life_events import DeliveryStatus
from onceonly.domain.organisations import Principal, Role
from onceonly.entrypoints.http_status import http_status
from onceonly.entrypoints.web.common import form_text, is_htmx
from onceonly.entrypoints.web.portal import PageRefused, Portal
from onceonly.services.life_events import LifeEventService

CITIZEN = {Role.CITIZEN}
MAX_VALUE = 200  # the event schemas' longest string
POLL_SECONDS = 2
# Where a refusal of a report is shown: beside the field it is about.
REPORT_ERROR_FIELD = {"event_type_unknown": "type", "event_type_not_offered": "type",
                      "reporter_not_allowed": "type", "recipient_not_subscribed": "tell",
                      "recipient_required": "tell"}


class TellUsOncePages:
    def __init__(self, portal: Portal, life_events: LifeEventService) -> None:
        self.portal = portal
        self.life_events = life_events

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        router.add_api_route("/citizen/tell-us-once", self.tell_form, methods=["GET"])
        router.add_api_route("/citizen/tell-us-once/check", self.check, methods=["POST"])
        router.add_api_route("/citizen/tell-us-once/change", self.change, methods=["POST"])
        router.add_api_route("/citizen/tell-us-once", self.tell, methods=["POST"])
        router.add_api_route("/citizen/reports", self.my_reports, methods=["GET"])
        router.add_api_route("/citizen/reports/{report_id}", self.report, methods=["GET"])
        return router

    def _event_types(self) -> dict[str, dict[str, Any]]:
        """The event types a citizen reports, by type, as the use case publishes them."""
        return {e["type"]: e for e in self.life_events.event_types()
                if e["reported_by"] == "citizen"}

    def tell_form(self, request: Request) -> HTMLResponse:
        self.portal.signed_in(request, CITIZEN)
        chosen = request.query_params.get("type", "")
        if not chosen:
            return self._tell_page(request)
        if chosen not in self._event_types():
            return self._tell_page(request, 422, errors={"type": "choose what has changed"})
        return self._tell_page(request, event_type=chosen)

    def _tell_page(self, request: Request, status: int = 200, *, event_type: str = "",
                   values: dict[str, str] | None = None, told: list[str] | None = None,
                   errors: dict[str, str] | None = None) -> HTMLResponse:
        types = self._event_types()
        context: dict[str, Any] = dict(types=types, event_type=event_type, values=values or {},
                                       errors=errors or {}, subscribers=[])
        if event_type:
            try:
                subscribers = self.life_events.subscribers(event_type)
            except DomainError as refused:  # no register takes it on this exchange
                context.update(event_type="", errors={"type": refused.detail})
                return self.portal.render(request, "citizen/tell_us_once.html",
                                          http_status(refused), **context)
            context.update(schema=types[event_type]["data_schema"], subscribers=subscribers)
            # First visit: everyone is ticked; after a refusal, as the citizen left them.
            context["told"] = told if told is not None else [
                r.agreement.consumer_id for r in context["subscribers"]]
        return self.portal.render(request, "citizen/tell_us_once.html", status, **context)

    async def _answers(self, request: Request) -> tuple[str, dict[str, str], list[str]]:
        """The answers posted (type, values, whom to tell); the form again, with what is
        missing beside its field, when one is missing."""
        form = await self.portal.form(request)
        event_type = form_text(form, "type", 100)
        types = self._event_types()
        if event_type not in types:
            raise PageRefused(self._tell_page(request, 422,
                                              errors={"type": "choose what has changed"}))
        schema = types[event_type]["data_schema"]
        values = {name: form_text(form, f"data-{name}", MAX_VALUE) or _date(form, name)
                  for name in schema["properties"]}
        told = [org for org in form.getlist("tell") if isinstance(org, str)]
        errors = {name: "this is needed: fill it in" for name in schema["required"]
                  if not values[name]}
        if errors:
            raise PageRefused(self._tell_page(request, 422, event_type=event_type,
                                              values=values, told=told, errors=errors))
        return event_type, values, told

    async def check(self, request: Request) -> Response:
        """Check your answers: what will be sent, and to whom, before it is."""
        self.portal.signed_in(request, CITIZEN)
        event_type, values, told = await self._answers(request)
        schema = self._event_types()[event_type]["data_schema"]
        subscribers = self.life_events.subscribers(event_type)
        chosen = [r for r in subscribers if r.required or r.agreement.consumer_id in told]
        return self.portal.render(request, "citizen/tell_us_once_check.html",
                                  event_type=event_type, values=values, told=told,
                                  schema=schema, chosen=chosen, titles=self._titles())

    async def change(self, request: Request) -> Response:
        """Back from checking the answers to the form, with the answers as they were."""
        self.portal.signed_in(request, CITIZEN)
        form = await self.portal.form(request)
        event_type = form_text(form, "type", 100)
        if event_type not in self._event_types():
            return self._tell_page(request, 422, errors={"type": "choose what has changed"})
        schema = self._event_types()[event_type]["data_schema"]
        return self._tell_page(request, event_type=event_type, values={
            name: form_text(form, f"data-{name}", MAX_VALUE) or _date(form, name)
            for name in schema["properties"]},
            told=[org for org in form.getlist("tell") if isinstance(org, str)])

    async def tell(self, request: Request) -> Response:
        citizen = self.portal.signed_in(request, CITIZEN)
        event_type, values, told = await self._answers(request)
        schema = self._event_types()[event_type]["data_schema"]
        try:
            status = self.life_events.report_own(
                citizen, {"type": event_type,
                          "data": {name: value for name, value in values.items() if value}},
                told)
        except DomainError as refused:
            field = REPORT_ERROR_FIELD.get(refused.code) or _field_named(
                refused.detail, schema["properties"]) or "form"
            return self._tell_page(request, http_status(refused), event_type=event_type,
                                   values=values, told=told, errors={field: refused.detail})
        return RedirectResponse(f"/citizen/reports/{status.report.id}?sent=1", status_code=303)

    def report(self, request: Request, report_id: str) -> HTMLResponse:
        """The report's deliveries; for htmx, the status partial alone (it polls itself
        while any delivery is pending)."""
        citizen = self.portal.signed_in(request, CITIZEN)
        try:
            status = self.life_events.status(citizen, report_id[:64])
        except DomainError as refused:
            return self.portal.refused_page(request, refused)
        settled = all(d.status is not DeliveryStatus.PENDING for d in status.deliveries)
        template = ("citizen/_report_status.html" if is_htmx(request)
                    else "citizen/report.html")
        next_steps = ({r.agreement.consumer_id: r.agreement.purpose_text
                       for r in self.life_events.subscribers(status.report.type)}
                      if "sent" in request.query_params else {})
        return self.portal.render(request, template, told=status, settled=settled,
                                  titles=self._titles(), poll=POLL_SECONDS,
                                  about_me=_about(citizen, status.report.person_key),
                                  reference=status.report.id if next_steps else "",
                                  next_steps=next_steps)

    def my_reports(self, request: Request) -> HTMLResponse:
        citizen = self.portal.signed_in(request, CITIZEN)
        try:
            reports = self.life_events.my_reports(citizen)
        except DomainError as refused:
            return self.portal.refused_page(request, refused)
        rows = [(s, _about(citizen, s.report.person_key),
                 {kind.value: sum(1 for d in s.deliveries if d.status is kind)
                  for kind in DeliveryStatus})
                for s in sorted(reports, key=lambda s: s.report.received_at, reverse=True)]
        return self.portal.render(request, "citizen/reports.html", rows=rows,
                                  titles=self._titles())

    def _titles(self) -> dict[str, str]:
        return {e["type"]: e["title"] for e in self.life_events.event_types()}


def _about(citizen: Principal, person_key: str) -> bool:
    """Whether a report is about the citizen (else they reported it, as informant)."""
    return citizen.person_key == person_key


def _field_named(detail: str, properties: dict[str, Any]) -> str | None:
    """The field a schema refusal names (`...: effective_date: ...`), to show it there."""
    return next((name for name in properties if name in detail), None)


def _date(form: Any, name: str) -> str:
    """A date typed as day, month and year (GOV.UK's date input) as the schema's ISO date;
    what does not make one is passed on as typed, for the event's check to refuse beside
    the field; nothing typed is nothing."""
    day, month, year = (form_text(form, f"data-{name}-{part}", 10)
                        for part in ("day", "month", "year"))
    if not (day or month or year):
        return ""
    if day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4:
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return f"{day}/{month}/{year}"
