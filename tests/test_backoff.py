"""The one backoff policy (pipeline/backoff.py): the sink, the runtime and dead-letter sends."""

from __future__ import annotations

import random

from pipeline.backoff import backoff_ceiling, backoff_delay


def test_backoff_ceiling_doubles_then_caps() -> None:
    schedule = [backoff_ceiling(n, base=0.25, cap=3.0) for n in range(1, 7)]
    assert schedule == [0.25, 0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff_ceiling(10_000, base=0.25, cap=3.0) == 3.0


def test_backoff_delay_is_full_jitter_within_the_ceiling() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(3, base=0.5, cap=10.0, rng=rng) for _ in range(500)]
    assert all(0.0 <= delay <= 2.0 for delay in delays)
    # full jitter spreads over the whole range, not around the ceiling
    assert min(delays) < 0.2 and max(delays) > 1.8


def test_backoff_delay_with_a_floor_stays_in_the_upper_part() -> None:
    rng = random.Random(11)
    delays = [backoff_delay(3, base=0.5, cap=10.0, floor=0.5, rng=rng) for _ in range(500)]
    assert all(1.0 <= delay <= 2.0 for delay in delays)
    assert min(delays) < 1.1 and max(delays) > 1.9
