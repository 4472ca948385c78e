"""LagTracker: windows per partition, statuses, and rows as `pipeline lag` shows them."""

from __future__ import annotations

import pytest

from pipeline.cli.lag import render_table
from pipeline.ops.history import LagTracker
from pipeline.ops.lag import GroupSnapshot, Position
from pipeline.ops.status import Status


def snap(
    group: str, at: float, *positions: tuple[str, int, int | None, int], members: int = 1
) -> GroupSnapshot:
    return GroupSnapshot(
        group=group,
        state="Stable" if members else "Empty",
        members=members,
        at=at,
        positions=tuple(
            Position(
                topic=t, partition=p, committed=c, end=e, oldest_unprocessed_ms=int(at - 5) * 1000
            )
            for t, p, c, e in positions
        ),
    )


def test_window_is_bounded_and_status_uses_it() -> None:
    tracker = LagTracker(window=3)
    for i in range(5):
        tracker.add([snap("g", 100.0 + i, ("t", 0, 10, 20))])
    assert len(tracker.samples("g", "t", 0)) == 3
    [row] = tracker.rows()
    assert row.status is Status.STALL
    assert tracker.alarming() == [row]
    assert tracker.overall() is Status.STALL


def test_rows_carry_lag_and_age() -> None:
    tracker = LagTracker(window=2)
    tracker.add([snap("g", 100.0, ("t", 0, 10, 20), ("t", 1, 7, 7), ("t", 2, None, 4))])
    rows = {r.partition: r for r in tracker.rows()}
    assert (rows[0].lag, rows[0].lag_seconds) == (10, 5.0)
    assert (rows[1].lag, rows[1].lag_seconds) == (0, 0.0)
    assert (rows[2].lag, rows[2].lag_seconds) == (None, None)
    assert rows[0].as_json()["status"] == "OK"


def test_partitions_gone_from_a_group_are_forgotten() -> None:
    tracker = LagTracker(window=3)
    tracker.add([snap("g", 1.0, ("t", 0, 1, 1), ("t", 1, 1, 1)), snap("h", 1.0, ("t", 0, 1, 1))])
    tracker.add([snap("g", 2.0, ("t", 0, 1, 1))])
    assert [(r.group, r.partition) for r in tracker.rows()] == [("g", 0), ("h", 0)]
    tracker.add([snap("e", 3.0, members=0)])
    assert tracker.groups() == {"g": ("Stable", 1), "h": ("Stable", 1), "e": ("Empty", 0)}
    assert tracker.samples("g", "t", 1) == []


def test_group_without_members_is_stop() -> None:
    tracker = LagTracker(window=3)
    tracker.add([snap("g", 1.0, ("t", 0, 3, 9), members=0)])
    assert tracker.rows()[0].status is Status.STOP


def test_window_must_hold_a_sample() -> None:
    with pytest.raises(ValueError, match="window"):
        LagTracker(window=0)


def test_table_shows_every_column() -> None:
    tracker = LagTracker(window=1)
    tracker.add([snap("grp", 100.0, ("intake.x", 3, 10, 25), ("intake.x", 4, None, 0))])
    lines = render_table(tracker.rows()).splitlines()
    assert lines[0].split() == [
        "GROUP",
        "TOPIC",
        "PARTITION",
        "COMMITTED",
        "END",
        "LAG",
        "LAG_S",
        "STATUS",
        "MEMBERS",
    ]
    assert lines[1].split() == [
        "grp",
        "intake.x",
        "3",
        "10",
        "25",
        "15",
        "5.0",
        "OK",
        "1",
        "(Stable)",
    ]
    assert lines[2].split() == ["grp", "intake.x", "4", "-", "0", "-", "-", "OK", "1", "(Stable)"]
    assert "no committed offsets" in render_table([])
