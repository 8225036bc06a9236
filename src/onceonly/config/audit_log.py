"""The audit log's settings: who signs its heads and how often it integrates, its
timestamping authorities, its name, its witnesses and this exchange as a witness."""

from __future__ import annotations

from pathlib import Path

from onceonly.config.loading import settings


def operator_org() -> str:
    """The organisation that runs the exchange: its key signs the audit log's tree heads."""
    return settings().operator_org


def audit_interval() -> float:
    """Seconds between integrations of new audit entries under a signed tree head (0: off)."""
    return settings().audit_interval



def timestamp_authorities() -> list[str]:
    """The RFC 3161 authorities to ask, in order (one answer suffices)."""
    return settings().tsa_urls.replace(",", " ").split()


def timestamp_roots_file() -> Path | None:
    roots = settings().tsa_roots
    return roots.expanduser() if roots else None


def timestamp_every() -> float:
    """0: stamp every signed tree head; N > 0: only the latest every N seconds."""
    return settings().tsa_every


def log_origin() -> str:
    """The audit log's name in its checkpoints, which its witnesses know it by."""
    chosen = settings()
    return chosen.log_origin.strip() or f"onceonly/{chosen.operator_org.lower()}"


def witnesses() -> list[tuple[str, str]]:
    """The log's witnesses: (URL prefix, verifier key) each."""
    return [(pair.split()[0], pair.split()[1])
            for pair in filter(None, (part.strip() for part in settings().witnesses.split(",")))]


def witness_key_file() -> Path | None:
    key = settings().witness_key_file
    return key.expanduser() if key else None


def witness_name() -> str:
    """The witness's name in its cosignatures."""
    chosen = settings()
    return chosen.witness_name.strip() or f"onceonly/{chosen.operator_org.lower()}/witness"


def witness_logs_file() -> Path | None:
    logs = settings().witness_logs
    return logs.expanduser() if logs else None
