"""`onceonly dataset publish FILE`, `onceonly dataset list` and `onceonly dataset test`:
datasets as a provider describes them, in a YAML or JSON file checked against the same
schema as the API's body, and one person's record read through a dataset's connector."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError

from onceonly.declarative.document import line_of
from onceonly.domain.errors import DomainError
from onceonly.entrypoints.api.schemas.datasets import PublicationIn
from onceonly.entrypoints.cli.common import DbOption, console, fail, open_exchange
from onceonly.entrypoints.cli.org_keys import operator

dataset_app = typer.Typer(help="Datasets: publish one (or its next version), list them, "
                          "try one's connector on a person.",
                          no_args_is_help=True)


def read_publication(path: Path) -> PublicationIn:
    """The file's publication, or exit 2 naming the file, the line and the path in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        fail(f"cannot read {path}: {getattr(problem, 'strerror', None) or problem}")
    try:
        document, tree = yaml.safe_load(text), yaml.compose(text)
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        fail(f"{path}{where}: not YAML or JSON: {getattr(problem, 'problem', problem)}")
    if not isinstance(document, dict):
        fail(f"{path}: expected a mapping of the dataset's parts (system, title, ...)")
    try:
        return PublicationIn.model_validate(document)
    except ValidationError as error:
        lines = []
        for problem in error.errors()[:10]:
            loc = tuple(problem["loc"])
            line = None if tree is None else line_of(tree, loc)
            lines.append(f"{path}{f' line {line}' if line else ''}: "
                         f"{'.'.join(str(p) for p in loc) or '(top)'}: {problem['msg']}")
        fail("\n".join(lines))


@dataset_app.command("publish")
def dataset_publish(
    file: Annotated[Path, typer.Argument(help="the dataset, in YAML or JSON")],
    openapi: Annotated[Path | None, typer.Option(
        help="the provider's OpenAPI document (YAML or JSON): an HTTP connector is "
             "checked against it")] = None,
    db: DbOption = None,
) -> None:
    """Publish a dataset (or its next version) under a provider's system; its connector is
    checked against the provider's OpenAPI document when given, and tried, and nothing is
    stored if it cannot serve the dataset."""
    publication = read_publication(file).publication()
    if openapi is not None:
        publication = replace(publication, openapi=_read_document(openapi))
    exchange = open_exchange(db)
    try:
        dataset = exchange.datasets.publish(operator(exchange.audit.operator_org),
                                            publication)
    except DomainError as error:
        fail(f"{error.code}: {error.detail}")
    finally:
        exchange.close()
    console.print(f"published {dataset.id} version {dataset.version} "
                  f"({len(dataset.fields)} fields)", soft_wrap=True)


@dataset_app.command("list")
def dataset_list(db: DbOption = None) -> None:
    """Every dataset, one a line: id, provider, current version, fields, its versions."""
    exchange = open_exchange(db, read_only=True)
    try:
        catalogue = exchange.catalogue.read()
    finally:
        exchange.close()
    for dataset in catalogue.datasets:  # one line a dataset, whole
        versions = catalogue.versions.get(dataset.id, ())
        print(dataset.id, dataset.provider_id, f"version {dataset.version}",
              ",".join(f.name for f in dataset.fields),
              "versions " + ",".join(f"{v.version}@{v.published_at:%Y-%m-%d}"
                                     if v.published_at else str(v.version) for v in versions),
              sep="\t")


def _read_document(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as problem:
        fail(f"cannot read {path}: {getattr(problem, 'strerror', None) or problem}")
    if not isinstance(document, dict):
        fail(f"{path}: expected an OpenAPI document (a mapping with `paths`)")
    return document


@dataset_app.command("test")
def dataset_test(
    dataset: Annotated[str, typer.Argument(help="the dataset's id, e.g. GOV/HMRC/income")],
    subject: Annotated[str, typer.Option(help="the person, as SCHEME:VALUE (the provider's "
                                               "own scheme, e.g. nino:QQ123456C)")],
    db: DbOption = None,
) -> None:
    """Read one person's record through the dataset's connector and show what each
    agreement in force would release from it, one line an agreement (audited)."""
    scheme, colon, value = subject.partition(":")
    if not colon or not scheme or not value:
        fail(f"--subject must be SCHEME:VALUE, not {subject!r}")
    exchange = open_exchange(db)
    try:
        would = exchange.datasets.test_read(operator(exchange.audit.operator_org), dataset,
                                            scheme, value)
    except DomainError as error:
        fail(f"{error.code}: {error.detail}")
    finally:
        exchange.close()
    if not would:
        print(f"{dataset}: the record was read; no agreement in force releases from it")
    for each in would:
        print(f"agreement {each.agreement.id}", each.agreement.consumer_id,
              each.agreement.purpose_code, json.dumps(each.released, default=str), sep="\t")
