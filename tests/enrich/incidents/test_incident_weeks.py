"""Which week's state index a report lives in, and which weeks its window reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pipeline.enrich.incidents.state import partition, partitions, partitions_near, state_index

WINDOW_S = 72 * 3600.0


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def test_a_week_is_named_by_its_iso_year_and_number() -> None:
    assert partition("ct", ts(2026, 3, 15, 23, 59)) == "ct-incidents-2026w11"  # a Sunday
    assert partition("ct", ts(2026, 3, 16, 0, 0)) == "ct-incidents-2026w12"  # the Monday
    # ISO years: 1 January 2027 is a Friday, still in 2026's week 53
    assert partition("ct", ts(2027, 1, 1, 12)) == "ct-incidents-2026w53"
    assert partition("ct", ts(2027, 1, 4)) == "ct-incidents-2027w01"


def test_the_lease_index_is_not_one_of_the_weeks() -> None:
    assert state_index("ct") == "ct-incidents"
    assert partitions("ct") == "ct-incidents-*"
    assert not state_index("ct").startswith(partitions("ct")[:-1])


def test_a_window_in_mid_week_reads_one_week_and_near_a_boundary_two() -> None:
    assert partitions_near("ct", ts(2026, 3, 12, 12), WINDOW_S) == ["ct-incidents-2026w11"]
    assert partitions_near("ct", ts(2026, 3, 15, 23), WINDOW_S) == [
        "ct-incidents-2026w11",
        "ct-incidents-2026w12",
    ]
    assert partitions_near("ct", ts(2026, 3, 12), 10 * 86_400.0) == [
        "ct-incidents-2026w10",
        "ct-incidents-2026w11",
        "ct-incidents-2026w12",
    ]


@given(
    moment=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
    window_h=st.integers(min_value=0, max_value=24 * 30),
)
def test_the_weeks_read_cover_every_moment_of_the_window(moment: datetime, window_h: int) -> None:
    weeks = partitions_near("ct", moment.timestamp(), window_h * 3600.0)
    assert len(weeks) == len(set(weeks)) and weeks == sorted(weeks)
    for hours in range(-window_h, window_h + 1, 5):
        assert partition("ct", (moment + timedelta(hours=hours)).timestamp()) in weeks
    assert partition("ct", (moment + timedelta(hours=window_h)).timestamp()) in weeks
    if window_h <= 72:
        assert len(weeks) <= 2
