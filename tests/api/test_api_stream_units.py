"""The alert stream's logic without a node: positions, change tracking, blocks, the generator."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from pipeline.api.auth import Principal, Role
from pipeline.api.stream import (
    Change,
    ChangeTracker,
    alert_events,
    changes_body,
    parse_position,
    read_changes,
    sse_block,
)
from pipeline.api.watch_models import Acknowledgement, AlertOut
from pipeline.errors import SinkBackpressure, Unavailability

ALICE = Principal("alice", Role.ANALYST)
NOW_MS = 1_796_000_000_000


def alert(
    alert_id: str, count: int = 1, *, restricted: bool = False, acked: bool = False
) -> AlertOut:
    seen = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    return AlertOut(
        id=alert_id,
        entry_id="e1",
        priority="high",
        cluster_id="c1",
        report_id="r1",
        source="hotline_call",
        first_seen=seen,
        last_seen=seen,
        count=count,
        restricted=restricted,
        acknowledged=Acknowledgement(by="alice", at=seen, outcome="relevant") if acked else None,
    )


def test_a_position_is_a_last_event_id_or_now_and_never_later_than_now() -> None:
    assert parse_position(None, NOW_MS) == NOW_MS
    assert parse_position("  ", NOW_MS) == NOW_MS
    assert parse_position("1700000000000", NOW_MS) == 1_700_000_000_000
    assert parse_position(str(NOW_MS + 5_000), NOW_MS) == NOW_MS
    for bad in ("-1", "12.5", "abc", "1e9", "９９", "9" * 16):
        with pytest.raises(ValueError, match="Last-Event-ID"):
            parse_position(bad, NOW_MS)


def test_blocks_carry_their_position_and_a_heartbeat_is_a_comment() -> None:
    assert sse_block(42, "alert", '{"id":"a"}') == b'event: alert\nid: 42\ndata: {"id":"a"}\n\n'
    assert sse_block(42) == b"id: 42\n: keepalive\n\n"


def test_the_request_asks_for_the_owners_changes_from_the_floor() -> None:
    body = changes_body("alice", 1000)
    filters = body["query"]["bool"]["filter"]
    assert filters[0] == {"term": {"owner": "alice"}}
    ranges = filters[1]["bool"]["should"]
    assert {next(iter(r["range"])) for r in ranges} == {"seen_at", "updated_at"}
    assert all(next(iter(r["range"].values()))["gte"] == 1000 for r in ranges)
    assert body["aggs"]["alerts"]["terms"]["order"] == {"seen": "asc"}


def test_changes_are_read_from_the_aggregation_with_the_latest_time() -> None:
    response = {
        "aggregations": {
            "alerts": {
                "sum_other_doc_count": 0,
                "buckets": [
                    {
                        "key": "a",
                        "doc_count": 2,
                        "seen": {"value": 10.0},
                        "updated": {"value": None},
                    },
                    {
                        "key": "b",
                        "doc_count": 1,
                        "seen": {"value": 5.0},
                        "updated": {"value": 20.0},
                    },
                ],
            }
        }
    }
    assert read_changes(response) == (
        [Change("a", 2, 10, 10), Change("b", 1, 20, 5)],
        False,
    )
    assert read_changes({}) == ([], False)  # no index yet: no shards, no aggregation
    response["aggregations"]["alerts"]["sum_other_doc_count"] = 3
    assert read_changes(response)[1] is True


def test_the_tracker_renders_only_what_changed_and_sends_only_new_states() -> None:
    tracker = ChangeTracker(NOW_MS, overlap_ms=30_000)
    assert tracker.floor() == NOW_MS - 30_000
    first = [Change("a", 1, NOW_MS - 10, NOW_MS - 10)]
    assert tracker.look(first, False, NOW_MS + 500) == ["a"]
    assert tracker.position == NOW_MS + 500
    assert [i for i, _ in tracker.unsent([alert("a")])] == ["a"]
    # the same documents again: nothing to render; the same state again: nothing to send
    assert tracker.look(first, False, NOW_MS + 1000) == []
    assert tracker.unsent([alert("a")]) == []
    # a new hit: rendered, and sent because its count changed
    second = [Change("a", 2, NOW_MS + 900, NOW_MS + 900)]
    assert tracker.look(second, False, NOW_MS + 1500) == ["a"]
    assert [i for i, _ in tracker.unsent([alert("a", 2)])] == ["a"]
    # an acknowledgement changes the alert's state too
    third = [Change("a", 3, NOW_MS + 1600, NOW_MS + 900)]
    assert tracker.look(third, False, NOW_MS + 2000) == ["a"]
    assert [i for i, _ in tracker.unsent([alert("a", 2, acked=True)])] == ["a"]


def test_a_late_hit_with_an_older_time_still_counts_as_a_change() -> None:
    tracker = ChangeTracker(NOW_MS)
    tracker.look([Change("a", 1, NOW_MS, NOW_MS)], False, NOW_MS + 500)
    late = [Change("a", 2, NOW_MS, NOW_MS)]  # seen earlier by another worker, searchable now
    assert tracker.look(late, False, NOW_MS + 1000) == ["a"]


def test_an_alert_that_left_the_window_is_sent_again_if_it_comes_back() -> None:
    tracker = ChangeTracker(NOW_MS)
    tracker.look([Change("a", 1, NOW_MS, NOW_MS)], False, NOW_MS + 500)
    tracker.unsent([alert("a")])
    tracker.look([], False, NOW_MS + 60_000)
    assert tracker.look([Change("a", 1, NOW_MS, NOW_MS)], False, NOW_MS + 60_500) == ["a"]
    assert len(tracker.unsent([alert("a")])) == 1


def test_a_truncated_look_catches_up_from_its_newest_alert_without_overlap() -> None:
    tracker = ChangeTracker(1_000_000)
    changes = [Change("a", 1, 990_000, 990_000), Change("b", 1, 995_000, 995_000)]
    tracker.look(changes, True, NOW_MS)
    assert tracker.position == 1_000_000  # never backwards
    tracker = ChangeTracker(1_000)
    tracker.look(changes, True, NOW_MS)
    assert tracker.position == 995_000
    assert tracker.floor() == 995_000
    tracker.look(changes[1:], False, NOW_MS)
    assert tracker.position == NOW_MS
    assert tracker.floor() == NOW_MS - 30_000


class Feed:
    """An in-memory alert feed: what each look finds, one list per look."""

    def __init__(self, looks: list[list[AlertOut]], fail_after: int | None = None) -> None:
        self.looks = looks
        self.fail_after = fail_after
        self.floors: list[int] = []
        self.rendered: list[list[str]] = []
        self._current: dict[str, AlertOut] = {}

    def changes(self, owner: str, floor_ms: int) -> tuple[list[Change], bool]:
        assert owner == "alice"
        if self.fail_after is not None and len(self.floors) >= self.fail_after:
            raise SinkBackpressure("down", reason=Unavailability.UNREACHABLE)
        self.floors.append(floor_ms)
        look = self.looks[min(len(self.floors), len(self.looks)) - 1]
        self._current = {a.id: a for a in look}
        return [Change(a.id, a.count, NOW_MS + a.count, NOW_MS) for a in look], False

    def views(self, alert_ids: list[str], principal: Principal) -> list[AlertOut]:
        self.rendered.append(alert_ids)
        return [self._current[i] for i in alert_ids]


def collect(feed: Feed, *, blocks: int, **kwargs: float) -> list[bytes]:
    async def run() -> list[bytes]:
        found: list[bytes] = []
        stream = alert_events(
            feed, ALICE, NOW_MS, poll_s=0.01, clock=lambda: NOW_MS / 1000, **kwargs
        )
        async for block in stream:
            found.append(block)
            if len(found) == blocks:
                break
        await stream.aclose()
        return found

    return asyncio.run(run())


def test_the_stream_opens_with_its_position_then_sends_each_change_once() -> None:
    feed = Feed([[alert("a")], [alert("a")], [alert("a", 2), alert("b")]])
    blocks = collect(feed, blocks=4, heartbeat_s=60)
    assert blocks[0] == b"retry: 2000\nid: %d\n: keepalive\n\n" % NOW_MS
    events = [b.split(b"\n")[0] for b in blocks[1:]]
    assert events == [b"event: alert"] * 3
    assert b'"id":"a"' in blocks[1] and b'"count":1' in blocks[1]
    assert b'"id":"a"' in blocks[2] and b'"count":2' in blocks[2]
    assert b'"id":"b"' in blocks[3]
    assert feed.rendered[:2] == [["a"], ["a", "b"]]  # the unchanged second look rendered nothing


def test_a_quiet_stream_sends_heartbeats() -> None:
    blocks = collect(Feed([[]]), blocks=3, heartbeat_s=0.02)
    assert blocks[1:] == [b"id: %d\n: keepalive\n\n" % NOW_MS] * 2


def test_an_analyst_never_gets_a_restricted_alert_whatever_the_feed_returns() -> None:
    feed = Feed([[alert("secret", restricted=True), alert("plain")]])
    blocks = collect(feed, blocks=2, heartbeat_s=60)
    assert b'"id":"plain"' in blocks[1]
    assert not any(b"secret" in b for b in blocks)


def test_the_stream_ends_with_an_error_event_when_elasticsearch_fails() -> None:
    feed = Feed([[alert("a")]], fail_after=1)
    blocks = collect(feed, blocks=10, heartbeat_s=60)
    assert blocks[-1].startswith(b"event: error\n")
    assert len(blocks) == 3  # opened, the alert, the error; then it ended by itself


def test_the_stream_ends_after_its_lifetime() -> None:
    blocks = collect(Feed([[]]), blocks=1000, heartbeat_s=60, max_s=0.05)
    assert len(blocks) == 1
