"""The bulk sink's retry policy as pure functions: what an item result means, how long to wait."""

from __future__ import annotations

import random
from typing import Literal

__all__ = ["Verdict", "backoff_ceiling", "backoff_delay", "classify_item"]

Verdict = Literal["indexed", "stale", "retry", "rejected"]

# Item errors that say the index (not the document) cannot take writes right now: a closed or
# missing index, a write block, shards not yet allocated. Retrying can succeed once an operator
# or the cluster fixes it, and dead-lettering every record of the batch for it would be wrong.
INDEX_UNAVAILABLE = frozenset(
    {
        "index_closed_exception",
        "index_not_found_exception",
        "cluster_block_exception",
        "no_shard_available_action_exception",
        "unavailable_shards_exception",
        "shard_not_found_exception",
        "es_rejected_execution_exception",
        "circuit_breaking_exception",
    }
)


def classify_item(status: int, error_type: str | None) -> Verdict:
    """What to do with one bulk item result, from its HTTP status and `error.type`.

    409 is a stale write under external versioning: a newer version is already indexed, which
    is the outcome we want. 429 and 5xx are transient. 4xx caused by the document itself
    (mapping, parsing, illegal argument) will fail identically on every retry: rejected.
    """
    if 200 <= status < 300:
        return "indexed"
    if status == 409 and error_type in (None, "version_conflict_engine_exception"):
        return "stale"
    if status == 429 or status >= 500 or status == 408:
        return "retry"
    if error_type in INDEX_UNAVAILABLE:
        return "retry"
    return "rejected"


def backoff_ceiling(attempt: int, *, base: float, cap: float) -> float:
    """The upper bound of the wait before retry number `attempt` (1-based): base·2^(n-1), capped."""
    # the exponent is bounded so a huge attempt count cannot overflow a float
    return float(min(cap, base * 2 ** min(max(attempt - 1, 0), 62)))


def backoff_delay(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Full jitter: uniform in [0, ceiling], so retrying writers spread out instead of herding."""
    return (rng or random).uniform(0.0, backoff_ceiling(attempt, base=base, cap=cap))
