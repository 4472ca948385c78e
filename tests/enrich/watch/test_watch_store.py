"""The watchlist store, the alert writer and the watch step against the real Elasticsearch node."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from pipeline.enrich.exact import extract_exact
from pipeline.enrich.watch.alerts import AlertWriter, Sighting, alerts_index, ensure_alerts_index
from pipeline.enrich.watch.entries import WatchEntry
from pipeline.enrich.watch.step import Watch
from pipeline.enrich.watch.store import (
    WatchSync,
    delete_entry,
    ensure_watch_index,
    put_entry,
    watch_index,
)
from pipeline.errors import SearchUnavailable
from pipeline.ingest.records import RawRecord
from tests.enrich.watch.factory import watching_processor

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


@pytest.fixture
def alias(es: Elasticsearch, unique_name: Any) -> Iterator[str]:
    name = unique_name("watch")
    ensure_watch_index(es, name)
    ensure_alerts_index(es, name)
    yield name
    es.options(ignore_status=404).indices.delete(index=f"{name}-*")


def entry(entry_id: str, target: str, **extra: Any) -> WatchEntry:
    return WatchEntry.model_validate(
        {"id": entry_id, "owner": "alice", "justification": "test", "target": target, **extra}
    )


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_worker_copy_follows_additions_changes_deletions_and_expiry(
    es: Elasticsearch, alias: str
) -> None:
    clock = Clock()
    sync = WatchSync(es, alias, interval_s=5.0, clock=clock)
    put_entry(es, alias, entry("a", "phone:07700 900123"), refresh=True)
    put_entry(es, alias, entry("b", "vehicle:AB12CDE"), refresh=True)
    first = sync.current(NOW)
    assert "a" in first and "b" in first
    assert len(sync.current(NOW)) == 2

    put_entry(es, alias, entry("a", "phone:07700 900999"), refresh=True)  # a change
    assert delete_entry(es, alias, "b", refresh=True)
    put_entry(
        es,
        alias,
        entry("c", "email:x@example.org", created=NOW - timedelta(days=91)),  # expired
        refresh=True,
    )
    assert len(sync.current(NOW)) == 2  # not looked again yet: within the interval
    clock.now += 5.0
    watchlist = sync.current(NOW)
    assert [e.id for e in (watchlist.get("a"), watchlist.get("b"), watchlist.get("c")) if e] == [
        "a"
    ]
    assert watchlist.get("a").target.key == entry("x", "phone:07700900999").target.key  # type: ignore[union-attr]
    assert not delete_entry(es, alias, "never-stored", refresh=True)


def test_a_stored_entry_that_no_longer_validates_does_not_stop_the_others(
    es: Elasticsearch, alias: str
) -> None:
    put_entry(es, alias, entry("good", "phone:07700 900123"), refresh=True)
    bad = {**entry("bad", "phone:07700 900124").model_dump(mode="json"), "deleted": False}
    bad["target"] = {"type": "phone", "value": "not a phone", "key": "x"}
    bad["updated_at"] = NOW.isoformat()
    es.index(index=watch_index(alias), id="bad", document=bad, refresh=True)
    watchlist = WatchSync(es, alias).current(NOW)
    assert "good" in watchlist and "bad" not in watchlist


def _sightings(watched: WatchEntry, text: str, reports: Sequence[str]) -> list[Sighting]:
    from pipeline.enrich.watch.matcher import Watchlist

    [match] = Watchlist([watched]).match(extract_exact(text), NOW)
    return [Sighting(match, rid, "cluster-1", "public_report", NOW) for rid in reports]


def _count(es: Elasticsearch, alias: str, kind: str) -> int:
    es.indices.refresh(index=alerts_index(alias))
    found = es.count(index=alerts_index(alias), query={"term": {"kind": kind}})
    return int(found["count"])


def test_one_alert_per_entry_and_cluster_counts_its_reports_and_a_rewrite_adds_nothing(
    es: Elasticsearch, alias: str
) -> None:
    writer = AlertWriter(es, alias)
    watched = entry("p", "phone:07700 900123")
    sightings = _sightings(watched, "rang 07700900123", [f"r{n}" for n in range(50)])
    assert len(writer.write(sightings)) == 1  # one new alert
    assert writer.write(sightings) == []  # redelivered: nothing new
    assert _count(es, alias, "alert") == 1
    assert _count(es, alias, "hit") == 50


class _FailsOnce:
    """An alert writer whose first write fails as if the worker died before it returned."""

    def __init__(self, writer: AlertWriter) -> None:
        self.writer, self.failed = writer, False

    def write(self, sightings: Sequence[Sighting]) -> list[str]:
        if not self.failed:
            self.failed = True
            raise SearchUnavailable("gone between indexing and alerting")
        return self.writer.write(sightings)


def _record(offset: int, record_id: str, text: str) -> RawRecord:
    body = {"id": record_id, "received_at": "2026-11-20T10:00:00Z", "description": text}
    return RawRecord(
        topic="intake.public-reports",
        partition=0,
        offset=offset,
        key=record_id.encode(),
        value=json.dumps(body).encode(),
        timestamp_ms=1_790_000_000_000 + offset,
    )


def test_alerts_follow_the_records_at_least_once_path_and_are_never_doubled(
    es: Elasticsearch, alias: str
) -> None:
    put_entry(es, alias, entry("p", "phone:+44 7700 900123"), refresh=True)
    writer = _FailsOnce(AlertWriter(es, alias))
    processor = watching_processor(Watch(WatchSync(es, alias), writer), index="unused")
    records = [_record(n, f"r{n}", f"Call {n} came from 07700 900123") for n in range(3)]
    with pytest.raises(SearchUnavailable):  # the runtime pauses and redoes the batch
        processor.process(records)
    assert _count(es, alias, "alert") == 0
    outcome = processor.process(records)  # the redo (or the next owner's, after a crash)
    assert len(outcome.indexed) == 3
    processor.process(records)  # a redelivery or replay
    assert _count(es, alias, "alert") == 1
    assert _count(es, alias, "hit") == 3
