"""The bulk sink's retry policy as pure functions: what an item result means, how long to wait."""

from __future__ import annotations

import random
from typing import Literal

from pipeline.errors import Unavailability, es_failure_reason

__all__ = ["Verdict", "backoff_ceiling", "backoff_delay", "classify_item"]

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


def backoff_ceiling(attempt: int, *, base: float, cap: float) -> float:
    """The upper bound of the wait before retry number `attempt` (1-based): base·2^(n-1), capped."""
    # the exponent is bounded so a huge attempt count cannot overflow a float
    return float(min(cap, base * 2 ** min(max(attempt - 1, 0), 62)))


def backoff_delay(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Full jitter: uniform in [0, ceiling], so retrying writers spread out instead of herding."""
    return (rng or random).uniform(0.0, backoff_ceiling(attempt, base=base, cap=cap))
