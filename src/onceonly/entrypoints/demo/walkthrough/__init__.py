"""The walkthrough: a scripted story on a fresh demo world (story.py), told in chapters
(tell-us-once, constraints, citizen control, identity, audit), each in its own module."""

from __future__ import annotations

from onceonly.entrypoints.demo.walkthrough.audit_trail import copy_audit_log, tamper_with_entry
from onceonly.entrypoints.demo.walkthrough.steps import StepFailed
from onceonly.entrypoints.demo.walkthrough.story import run_walkthrough

__all__ = ["StepFailed", "copy_audit_log", "run_walkthrough", "tamper_with_entry"]
