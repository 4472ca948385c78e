"""The one backoff policy: exponential ceilings with jitter, as pure functions of the attempt."""

from __future__ import annotations

import random

__all__ = ["backoff_ceiling", "backoff_delay"]


def backoff_ceiling(attempt: int, *, base: float, cap: float) -> float:
    """The upper bound of the wait before retry number `attempt` (1-based): base·2^(n-1), capped."""
    # the exponent is bounded so a huge attempt count cannot overflow a float
    return float(min(cap, base * 2 ** min(max(attempt - 1, 0), 62)))


def backoff_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    floor: float = 0.0,
    rng: random.Random | None = None,
) -> float:
    """Jitter: uniform in [floor x ceiling, ceiling], so retrying callers spread out instead of
    herding. `floor=0` is full jitter (bulk items, sends); `floor=0.5` keeps a paused batch
    from retrying at once while still spreading the workers that paused together."""
    ceiling = backoff_ceiling(attempt, base=base, cap=cap)
    return (rng or random).uniform(floor * ceiling, ceiling)
