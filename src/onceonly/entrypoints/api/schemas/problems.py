"""The problem body every refusal and fault is answered with."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Problem(BaseModel):
    code: str = Field(description="machine-readable reason, e.g. field_not_in_agreement")
    detail: str = Field(description="what went wrong and what to do")
    request_id: str | None = Field(None, description="the request's id (also in "
                                   "X-Request-Id), under which its log lines are written")


class InternalProblem(Problem):
    request_id: str = Field(description="the request's id (also in X-Request-Id): the server "
                                        "logged the fault under it")
