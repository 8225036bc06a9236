"""A schemathesis check of our own (loaded by test_openapi_conformance.py through
SCHEMATHESIS_HOOKS): the document is never looser than the server."""

from __future__ import annotations

import schemathesis

# The codes the API refuses a request with for its shape: the body's own checks, and those
# the domain refuses with (audited) where the document describes the same rule: a blank
# reason, a CloudEvent's specversion and the people it names.
SHAPE_REFUSALS = {"invalid_request", "malformed_json", "duplicate_key", "reason_required",
                  "specversion_unsupported", "subject_invalid", "informant_invalid"}


@schemathesis.check
def allowed_shape_is_taken(ctx, response, case) -> None:
    """A request generated as valid from the document is never refused for its shape: it may
    be refused for what it asks (an agreement that is not the caller's, a field not agreed),
    never as malformed."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code != 422:
        return
    code = response.json().get("code")
    if code in SHAPE_REFUSALS:
        raise AssertionError(f"the document allows this request, the server refused its "
                             f"shape ({code}): {response.text[:1500]}")
