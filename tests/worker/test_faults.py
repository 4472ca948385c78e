"""Fault tests (issue 5): whatever crashes, outages and rebalances happen, the index ends with
exactly one document per unique valid record published: none lost, none duplicated."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from tests.worker.support import Deployment, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOPIC = "public-reports"


def records(run: str, n: int) -> list[tuple[bytes, bytes]]:
    out = []
    for i in range(n):
        rid = f"{run}-{i}"
        body = {
            "id": rid,
            "received_at": "2026-11-21T09:00:00+00:00",
            "description": f"Report {i}: a man photographing the gates of site {i % 17}, "
            f"left in a grey car registration KX{i % 90 + 10:02d} ABC heading north.",
        }
        out.append((rid.encode(), json.dumps(body).encode()))
    return out


def indexed(es: Elasticsearch, alias: str) -> int:
    if not es.indices.exists_alias(name=alias):
        return 0
    es.indices.refresh(index=alias)
    return int(es.count(index=alias)["count"])


def assert_exactly_once(es: Elasticsearch, alias: str, run: str, expected: int) -> None:
    es.indices.refresh(index=alias)
    body = es.search(
        index=alias,
        size=0,
        query={"prefix": {"source_id": run}},
        aggs={
            "ids": {"cardinality": {"field": "source_id", "precision_threshold": 40000}},
            "dupes": {"terms": {"field": "source_id", "min_doc_count": 2, "size": 5}},
        },
    )
    total = body["hits"]["total"]["value"]
    assert total == expected, f"{total} documents for {expected} unique records"
    assert body["aggregations"]["dupes"]["buckets"] == []
    assert body["aggregations"]["ids"]["value"] == expected


def steady_producer(
    deployment: Deployment, batch: list[tuple[bytes, bytes]], chunks: int
) -> Iterator[None]:
    size = max(1, len(batch) // chunks)
    for start in range(0, len(batch), size):
        deployment.produce(deployment.topic(TOPIC), batch[start : start + size])
        yield


def test_worker_killed_mid_batch_loses_and_duplicates_nothing(
    deployment: Deployment, es: Elasticsearch
) -> None:
    run = uuid.uuid4().hex[:10]
    batch = records(run, 400)
    alias = deployment.settings.index_alias
    deployment.produce(deployment.topic(TOPIC), batch)
    first = deployment.start_worker()
    wait_for(lambda: indexed(es, alias) >= 60, 180, "the first batches", first.log)
    first.kill()  # SIGKILL: no shutdown hook, no final commit
    assert indexed(es, alias) < 400, "worker finished before it could be killed mid-stream"
    second = deployment.start_worker()
    wait_for(lambda: indexed(es, alias) >= 400, 300, "all records after restart", second.log)
    time.sleep(3)  # let any redelivered batch land: it must update, not add
    assert_exactly_once(es, alias, run, 400)


def test_second_worker_joins_then_leaves(deployment: Deployment, es: Elasticsearch) -> None:
    run = uuid.uuid4().hex[:10]
    batch = records(run, 600)
    alias = deployment.settings.index_alias
    feed = steady_producer(deployment, batch, chunks=6)
    first = deployment.start_worker()
    next(feed)
    wait_for(lambda: indexed(es, alias) >= 50, 180, "the first worker to index", first.log)
    second = deployment.start_worker()  # rebalance: partitions split between two workers
    for _ in feed:
        time.sleep(2)
    wait_for(lambda: indexed(es, alias) >= 300, 240, "progress with two workers", second.log)
    second.stop()  # rebalance back to one worker
    wait_for(lambda: indexed(es, alias) >= 600, 300, "all records", first.log)
    time.sleep(3)
    assert_exactly_once(es, alias, run, 600)
    assert first.alive(), first.log()
