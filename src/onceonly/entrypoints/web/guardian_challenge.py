"""The guardian's page for one accuracy challenge: the value their organisation holds now
beside the value the person proposes, with the field in words, before they correct or
reject it (on the queues page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Role
from onceonly.entrypoints.web.portal import Portal
from onceonly.services.accuracy import AccuracyService
from onceonly.services.catalogue import CatalogueService

GUARDIAN = {Role.GUARDIAN}


class GuardianChallengePages:
    def __init__(self, portal: Portal, accuracy: AccuracyService,
                 catalogue: CatalogueService) -> None:
        self.portal = portal
        self.accuracy = accuracy
        self.catalogue = catalogue

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        router.add_api_route("/guardian/challenges/{challenge_id}", self.challenge_page,
                             methods=["GET"])
        return router

    def challenge_page(self, request: Request, challenge_id: int) -> HTMLResponse:
        guardian = self.portal.signed_in(request, GUARDIAN)
        try:
            challenge, held = self.accuracy.held_value(guardian, challenge_id)
        except DomainError as refused:
            return self.portal.refused_page(request, refused)
        dataset = next((d for d in self.catalogue.read().datasets
                        if d.id == challenge.dataset_id), None)
        spec = dataset.field(challenge.field) if dataset else None
        return self.portal.render(request, "guardian/challenge.html", challenge=challenge,
                                  held=held, dataset=dataset, spec=spec)
