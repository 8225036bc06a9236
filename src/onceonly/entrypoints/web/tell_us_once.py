"""The citizen's tell-us-once pages as GOV.UK question pages: what has changed, then one
question a page (drawn from the event type's JSON Schema; an address as its lines and a
postcode; a date as day, month and year), whom to tell, check your answers with a change
link on each, then send: the confirmation panel with the reference and what each
organisation does next, then the status page; and my reports. Thin: which pages, what they
ask and how an answer is read are in tell_us_once_answers.py; every rule of a report is the
use case's."""

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
from onceonly.entrypoints.web.tell_us_once_answers import (
    ADDRESS_FIELD,
    CHECK,
    CHOOSE_TYPE,
    HINTS,
    QUESTIONS,
    START,
    TELL,
    WHAT,
    Answers,
    AnswersCookie,
    address_of,
    first_unanswered,
    next_step,
    previous_step,
    read_address,
    read_date,
    read_text,
    step_url,
    steps,
)
from onceonly.services.life_events import LifeEventService

CITIZEN = {Role.CITIZEN}
POLL_SECONDS = 2
# Which page a refusal of the report is shown on: the question it is about.
REPORT_ERROR_STEP = {"event_type_unknown": WHAT, "event_type_not_offered": WHAT,
                     "reporter_not_allowed": WHAT, "recipient_not_subscribed": TELL,
                     "recipient_required": TELL}


class TellUsOncePages:
    def __init__(self, portal: Portal, life_events: LifeEventService) -> None:
        self.portal = portal
        self.life_events = life_events
        self._cookie: AnswersCookie | None = None

    @property
    def cookie(self) -> AnswersCookie:
        if self._cookie is None:  # the forms key is in the database: asked for on first use
            self._cookie = AnswersCookie(self.portal.forms_key())
        return self._cookie

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        router.add_api_route(START, self.what_page, methods=["GET"])
        router.add_api_route(f"{START}/{WHAT}", self.answer_what, methods=["POST"])
        router.add_api_route(f"{START}/{{step}}", self.question_page, methods=["GET"])
        router.add_api_route(f"{START}/{{step}}", self.answer, methods=["POST"])
        router.add_api_route(START, self.send, methods=["POST"])
        router.add_api_route("/citizen/reports", self.my_reports, methods=["GET"])
        router.add_api_route("/citizen/reports/{report_id}", self.report, methods=["GET"])
        return router

    def _event_types(self) -> dict[str, dict[str, Any]]:
        """The event types a citizen reports, by type, as the use case publishes them."""
        return {e["type"]: e for e in self.life_events.event_types()
                if e["reported_by"] == "citizen"}

    # what has changed ----------------------------------------------------------------------

    def what_page(self, request: Request) -> HTMLResponse:
        self.portal.signed_in(request, CITIZEN)
        return self._what_page(request, self.cookie.read(request))

    def _what_page(self, request: Request, answers: Answers, status: int = 200,
                   errors: dict[str, str] | None = None) -> HTMLResponse:
        return self.portal.render(request, "citizen/tell_us_once.html", status,
                                  types=self._event_types(), chosen=answers.type,
                                  errors=errors or {}, back="/citizen",
                                  returning=request.query_params.get("return") == CHECK)

    async def answer_what(self, request: Request) -> Response:
        self.portal.signed_in(request, CITIZEN)
        form = await self.portal.form(request)
        answers = self.cookie.read(request)
        chosen = form_text(form, "type", 100)
        if chosen not in self._event_types():
            return self._what_page(request, answers, 422, {"type": CHOOSE_TYPE})
        try:
            self.life_events.subscribers(chosen)
        except DomainError as refused:  # no register takes it on this exchange
            return self._what_page(request, answers, http_status(refused),
                                   {"type": refused})
        if chosen != answers.type:  # another change: its questions start afresh
            answers = Answers(type=chosen)
        answers.answer(WHAT)
        schema = self._schema(answers)
        return self._go(request, answers, CHECK if form_text(form, "return", 8) == CHECK
                        else first_unanswered(answers, schema))

    # one question a page -------------------------------------------------------------------

    def _schema(self, answers: Answers) -> dict[str, Any]:
        return self._event_types()[answers.type]["data_schema"]

    def _answers_for(self, request: Request, step: str) -> tuple[Answers, dict[str, Any]]:
        """The answers so far, once a change is chosen and `step` is one of its pages; else
        back to the first question."""
        answers = self.cookie.read(request)
        if answers.type not in self._event_types() or step not in steps(
                self._schema(answers)):
            raise PageRefused(RedirectResponse(START, status_code=303))
        return answers, self._schema(answers)

    def question_page(self, request: Request, step: str) -> Response:
        self.portal.signed_in(request, CITIZEN)
        if step == WHAT:
            return RedirectResponse(START, status_code=303)
        answers, schema = self._answers_for(request, step)
        if step == CHECK:
            waiting = first_unanswered(answers, schema)
            if waiting != CHECK:
                return RedirectResponse(step_url(waiting), status_code=303)
            return self._check_page(request, answers, schema)
        return self._question(request, answers, schema, step)

    def _question(self, request: Request, answers: Answers, schema: dict[str, Any],
                  step: str, status: int = 200, errors: dict[str, str] | None = None,
                  typed: dict[str, Any] | None = None) -> HTMLResponse:
        context: dict[str, Any] = dict(
            step=step, title=self._event_types()[answers.type]["title"],
            back=step_url(previous_step(step, schema) or WHAT), errors=errors or {},
            returning=request.query_params.get("return") == CHECK or bool(
                typed and typed.get("return")))
        if step == TELL:
            subscribers = self.life_events.subscribers(answers.type)
            told = (typed or {}).get("told", answers.told)
            context.update(kind="tell", subscribers=subscribers, told=(
                told if told is not None else [r.agreement.consumer_id for r in subscribers]))
            return self.portal.render(request, "citizen/tell_us_once_question.html", status,
                                      **context)
        spec = schema["properties"][step]
        kind = ("address" if step == ADDRESS_FIELD else
                "date" if spec.get("format") == "date" else "text")
        context.update(kind=kind, required=step in schema["required"],
                       question=QUESTIONS.get((answers.type, step)),
                       description=spec["description"], hint=HINTS.get(step),
                       value=(typed or {}).get("value", answers.values.get(step, "")),
                       address=(typed or {}).get("address", answers.address))
        return self.portal.render(request, "citizen/tell_us_once_question.html", status,
                                  **context)

    async def answer(self, request: Request, step: str) -> Response:
        """One page's answer: kept, and on to the next page (or back to check your answers,
        when the citizen came from there); the page again, with what is wrong, if it is."""
        self.portal.signed_in(request, CITIZEN)
        form = await self.portal.form(request)
        answers, schema = self._answers_for(request, step)
        returning = form_text(form, "return", 8) == CHECK
        if step in (WHAT, CHECK):
            return RedirectResponse(step_url(CHECK), status_code=303)
        if step == TELL:
            answers.told = [org for org in form.getlist("tell") if isinstance(org, str)]
        elif step == ADDRESS_FIELD:
            parts, errors = read_address(form)
            if errors:
                return self._question(request, answers, schema, step, 422,
                                      {f"address-{part}": e for part, e in errors.items()},
                                      {"address": parts, "return": returning})
            answers.address, answers.values[step] = parts, address_of(parts)
        else:
            required = step in schema["required"]
            read = read_date if schema["properties"][step].get("format") == "date" else read_text
            value, error = read(form, step, required)
            if error:
                if read is read_date:  # the parts as typed, to put right
                    value = "-".join(form_text(form, f"data-{step}-{part}", 10).replace(
                        "-", "") for part in ("year", "month", "day"))
                return self._question(request, answers, schema, step, 422, {step: error},
                                      {"value": value, "return": returning})
            answers.values[step] = value
        answers.answer(step)
        return self._go(request, answers, CHECK if returning else next_step(step, schema))

    def _go(self, request: Request, answers: Answers, step: str) -> Response:
        response = RedirectResponse(step_url(step), status_code=303)
        self.cookie.keep(request, response, answers)
        return response

    # check your answers, and send ----------------------------------------------------------

    def _check_page(self, request: Request, answers: Answers, schema: dict[str, Any],
                    status: int = 200, error: DomainError | None = None) -> HTMLResponse:
        subscribers = self.life_events.subscribers(answers.type)
        chosen = [r for r in subscribers
                  if r.required or r.agreement.consumer_id in (answers.told or [])]
        return self.portal.render(request, "citizen/tell_us_once_check.html", status,
                                  answers=answers, schema=schema, chosen=chosen,
                                  title=self._event_types()[answers.type]["title"],
                                  questions=QUESTIONS, back=step_url(TELL), error=error)

    async def send(self, request: Request) -> Response:
        citizen = self.portal.signed_in(request, CITIZEN)
        await self.portal.form(request)
        answers, schema = self._answers_for(request, CHECK)
        waiting = first_unanswered(answers, schema)
        if waiting != CHECK:  # nothing is sent before every question is answered
            return RedirectResponse(step_url(waiting), status_code=303)
        try:
            status = self.life_events.report_own(
                citizen, {"type": answers.type,
                          "data": {name: value for name, value in answers.values.items()
                                   if value}},
                answers.told or [])
        except DomainError as refused:
            step = REPORT_ERROR_STEP.get(refused.code) or next(
                (name for name in schema["properties"] if name in refused.detail), None)
            if step is None:
                return self._check_page(request, answers, schema, http_status(refused),
                                        refused)
            if step == WHAT:
                return self._what_page(request, answers, http_status(refused),
                                       {"type": refused})
            field = "address-line1" if step == ADDRESS_FIELD else step
            return self._question(request, answers, schema, step, http_status(refused),
                                  {field: refused})
        response = RedirectResponse(f"/citizen/reports/{status.report.id}?sent=1",
                                    status_code=303)
        self.cookie.forget(request, response)
        return response

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
