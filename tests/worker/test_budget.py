"""The stage thread's time budget: CPU work over it is interrupted, I/O sections never are, and
an interrupt never escapes the budgeted block."""

from __future__ import annotations

import time

import pytest

from pipeline.flow.budget import Budget, ProcessingTimeout

# What the busy loops below would take if nothing interrupted them.
UNINTERRUPTED_S = 20.0


def spin(seconds: float) -> int:
    """Pure-Python CPU work, the shape of an extractor stuck on hostile input."""
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
    return n


@pytest.fixture
def budget() -> Budget:
    guard = Budget()
    yield guard  # type: ignore[misc]
    guard.close()


def test_cpu_work_over_the_budget_is_interrupted(budget: Budget) -> None:
    started = time.monotonic()
    with pytest.raises(ProcessingTimeout), budget.limit(0.2), budget.interruptible():
        spin(UNINTERRUPTED_S)
    assert time.monotonic() - started < UNINTERRUPTED_S / 10


def test_work_outside_interruptible_sections_is_not_interrupted_but_the_next_one_raises(
    budget: Budget,
) -> None:
    reached = []
    with pytest.raises(ProcessingTimeout), budget.limit(0.05):
        spin(0.3)  # an I/O stage stand-in: over the budget, yet it completes
        reached.append("io done")
        with budget.interruptible():
            reached.append("never")
    assert reached == ["io done"]


def test_interruptible_outside_a_limit_and_a_spent_limit_are_harmless(budget: Budget) -> None:
    with budget.interruptible():
        spin(0.05)
    with budget.limit(0.05):
        pass
    spin(0.2)  # the deadline passed after the block: nothing may fire now


@pytest.mark.timeout(120)  # a deadlock must fail here, not hold the session
def test_an_interrupt_racing_the_end_of_the_block_never_escapes_it(budget: Budget) -> None:
    # The watchdog needs the GIL to fire (the switch interval is 5 ms), so work from 1 to
    # 12 ms against a 1 ms budget ends sometimes before and sometimes after the interrupt.
    timeouts = 0
    for n in range(300):
        try:
            with budget.limit(0.001), budget.interruptible():
                spin(0.001 * (1 + n % 12))
        except ProcessingTimeout:
            timeouts += 1
        # an interrupt that escaped the block would be raised here and fail the test
        spin(0.002)
    assert timeouts > 0
