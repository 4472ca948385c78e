"""The bulk sink's retry policy as pure functions: what an item result means, how long to wait."""

from __future__ import annotations

from typing import Literal

from pipeline.errors import Unavailability, es_failure_reason

__all__ = ["Verdict", "classify_item"]

Verdict = Literal["indexed", "stale", "retry", "rejected"]


def classify_item(status: int, error_type: str | None, message: str | None = None) -> Verdict:
    """What to do with one bulk item result, from its HTTP status, `error.type` and reason.

    409 is a stale write under external versioning: a newer version is already indexed, which
    is the outcome we want. Only a 400 (or 413) about the document itself (mapping, parsing,
    illegal argument) is the record's fault: it would fail identically on every retry, so it
    is rejected. Everything else (429, 5xx, a credential refused, a write block, a closed
    index, an alias with no write index, a conflict we did not ask for) is about the cluster:
    retried, then backpressure, never a dead letter.
    """
    if 200 <= status < 300:
        return "indexed"
    if status == 409 and error_type in (None, "version_conflict_engine_exception"):
        return "stale"
    if status in (400, 413) and (
        es_failure_reason(status, error_type, message) is Unavailability.BAD_REQUEST
    ):
        return "rejected"
    return "retry"
