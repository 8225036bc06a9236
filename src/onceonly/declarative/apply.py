"""Applying a declaration: the plan printed as a diff first, then each step in order (none
with a dry run); a second apply of the same file finds nothing to change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from onceonly.bootstrap import Exchange
from onceonly.declarative.document import Declaration, DeclarationError, load
from onceonly.declarative.plan import Planner, State, Step
from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Principal
from onceonly.services.people import Issued


class StepRefused(Exception):
    """A use case refused a step: those before it were done, none after."""

    def __init__(self, step: Step, error: DomainError, done: int) -> None:
        self.step, self.error, self.done = step, error, done
        super().__init__(f"{step}: {error.code}: {error.detail}")


@dataclass(frozen=True)
class Applied:
    steps: tuple[Step, ...]
    notes: tuple[str, ...]
    dry_run: bool
    issued: tuple[Issued, ...] = ()  # the people made, each with their first token


def apply(exchange: Exchange, admin: Principal, path: Path, environ: Mapping[str, str], *,
          prune: bool = False, dry_run: bool = False,
          say: Callable[[str], None] = print) -> Applied:
    """Bring the exchange to what the file at `path` declares, saying the plan first and
    then what each step said (a new person's token). DeclarationError: the file is wrong and
    nothing was done; StepRefused: a use case refused a step."""
    return apply_declaration(exchange, admin, load(path, environ), prune=prune,
                             dry_run=dry_run, say=say)


def apply_declaration(exchange: Exchange, admin: Principal, declaration: Declaration, *,
                      prune: bool = False, dry_run: bool = False,
                      say: Callable[[str], None] = print) -> Applied:
    """As `apply`, for a declaration already loaded (the demo's, once it has said where
    each provider's store is)."""
    path = declaration.path
    if exchange.members.operator() not in {o.id for o in exchange.members.list(admin)}:
        raise DeclarationError([f"{path}: this exchange is not initialised: run "
                                "`onceonly init --operator CLASS/CODE --name NAME` first"])
    planner = Planner(exchange, admin, declaration, State.read(exchange, admin))
    steps = planner.plan(prune=prune)
    for note in planner.notes:
        say(f"note: {note}")
    if not steps:
        say(f"{path.name}: nothing to change")
        return Applied((), tuple(planner.notes), dry_run)
    for step in steps:
        say(str(step))
    counts = {sign: sum(1 for s in steps if s.sign == sign) for sign in "+~-"}
    say(f"{counts['+']} to add, {counts['~']} to change, {counts['-']} to remove"
        + (" (dry run: nothing done)" if dry_run else ""))
    if not dry_run:
        for done, step in enumerate(steps):
            try:
                said = step.do()
            except DomainError as error:
                raise StepRefused(step, error, done) from None
            if said:
                say(said)
        say(f"applied {path.name}")
    return Applied(tuple(steps), tuple(planner.notes), dry_run, tuple(planner.issued))
