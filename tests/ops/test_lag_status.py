"""The Burrow-like status rules, sample window by sample window."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.ops.status import (
    PartitionSample,
    Status,
    evaluate,
    is_alarming,
    worst,
)


def window(*points: tuple[int | None, int], members: bool = True) -> list[PartitionSample]:
    """Samples one second apart from (committed, end) pairs; `members` for all of them."""
    return [
        PartitionSample(at=float(i), committed=c, end=e, has_members=members)
        for i, (c, e) in enumerate(points)
    ]


@pytest.mark.parametrize(
    ("points", "members", "expected"),
    [
        # caught up
        ([(10, 10), (10, 10), (10, 10)], True, Status.OK),
        ([(10, 10)], True, Status.OK),
        # busy: offsets move, lag holds or shrinks
        ([(10, 20), (15, 25), (20, 30)], True, Status.OK),
        ([(10, 30), (20, 30), (25, 30)], True, Status.OK),
        # lag rose over a moving consumer: falling behind
        ([(10, 20), (12, 25), (14, 30)], True, Status.WARN),
        ([(10, 20), (12, 22), (14, 30)], True, Status.WARN),
        ([(10, 20), (12, 20), (14, 30)], True, Status.OK),  # dipped: not rising throughout
        # lag rose then fell: not a trend
        ([(10, 20), (11, 30), (25, 30)], True, Status.OK),
        # committed frozen with lag, members present: stalled
        ([(10, 20), (10, 20), (10, 20)], True, Status.STALL),
        ([(10, 20), (10, 25), (10, 30)], True, Status.STALL),
        ([(10, 11), (10, 11)], True, Status.STALL),
        # one sample cannot show movement
        ([(10, 20)], True, Status.OK),
        # caught up at the newest sample wins over an earlier stall
        ([(10, 20), (10, 20), (20, 20)], True, Status.OK),
        # lag appeared only within the window: may be the commit interval, not a stall
        ([(10, 10), (10, 15), (10, 20)], True, Status.OK),
        # no members and lag: stopped
        ([(10, 20), (10, 20), (10, 20)], False, Status.STOP),
        ([(10, 20)], False, Status.STOP),
        # no members, no lag: fine
        ([(10, 10), (10, 10)], False, Status.OK),
        # committed went backwards: rewound, whatever else holds
        ([(20, 30), (10, 30), (15, 30)], True, Status.REWIND),
        ([(20, 30), (10, 30)], False, Status.REWIND),
        ([(20, 30), (20, 30), (5, 5)], True, Status.REWIND),
        # never committed: unknown lag, fine while members are there
        ([(None, 20), (None, 30)], True, Status.OK),
        ([(None, 20), (None, 30)], False, Status.STOP),
        ([(None, 0)], False, Status.OK),
        # first commit lands inside the window
        ([(None, 20), (5, 20), (10, 20)], True, Status.OK),
    ],
)
def test_status_rules(
    points: list[tuple[int | None, int]], members: bool, expected: Status
) -> None:
    assert evaluate(window(*points, members=members)) is expected


def test_members_leaving_in_the_window_means_stop() -> None:
    left = PartitionSample(at=9.0, committed=12, end=25, has_members=False)
    samples = [*window((10, 20), (12, 20)), left]
    assert evaluate(samples) is Status.STOP


def test_empty_window_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one sample"):
        evaluate([])


def test_lag_never_negative() -> None:
    # A committed offset past the end can be read while the end offset is being refreshed.
    assert PartitionSample(at=0, committed=12, end=10, has_members=True).lag == 0


def test_alarming_statuses_are_stall_and_stop() -> None:
    assert {s for s in Status if is_alarming(s)} == {Status.STALL, Status.STOP}


def test_worst_picks_the_most_severe() -> None:
    assert worst([]) is Status.OK
    assert worst([Status.OK, Status.WARN]) is Status.WARN
    assert worst([Status.WARN, Status.REWIND, Status.STALL]) is Status.STALL
    assert worst([Status.STALL, Status.STOP, Status.OK]) is Status.STOP


points = st.lists(
    st.tuples(st.integers(0, 50), st.integers(0, 50), st.booleans()), min_size=1, max_size=6
)


def as_samples(raw: list[tuple[int, int, bool]]) -> list[PartitionSample]:
    return [
        PartitionSample(at=float(i), committed=c, end=c + extra, has_members=m)
        for i, (c, extra, m) in enumerate(raw)
    ]


@given(points)
def test_invariants(raw: list[tuple[int, int, bool]]) -> None:
    samples = as_samples(raw)
    status = evaluate(samples)
    committed = [c for c, _, _ in raw]
    rewound = any(b < a for a, b in pairwise(committed))
    newest = samples[-1]
    if rewound:
        assert status is Status.REWIND
    elif newest.lag == 0:
        assert status is Status.OK
    elif not newest.has_members:
        assert status is Status.STOP
    if len(samples) == 1:
        assert status not in (Status.STALL, Status.WARN)
    if status is Status.STALL:
        assert len(set(committed)) == 1 and all(s.lag for s in samples)
    if status is Status.WARN:
        assert len(set(committed)) > 1 and samples[-1].lag > samples[0].lag  # type: ignore[operator]
