"""Fault tests (issues 5 and 19): whatever crashes and rebalances happen, every valid id ends
indexed once with its latest revision, one `duplicate: false` per cluster, and the dead-letter
topic holding exactly the bad records (see `support.mixed_stream`)."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from elasticsearch import Elasticsearch

from tests.harness import Deployment, wait_for
from tests.worker.support import (
    STREAM_TOPIC,
    Stream,
    assert_stream_outcome,
    committed,
    members_reading,
    mixed_stream,
    records_counted,
)

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


def processed(deployment: Deployment, stream: Stream) -> bool:
    """Every record published so far committed by the group: indexed or dead-lettered."""
    return committed(deployment, deployment.topic(STREAM_TOPIC)) >= len(stream.positions)


def test_worker_killed_inside_a_batch_after_a_commit_loses_nothing(
    deployment: Deployment, es: Elasticsearch
) -> None:
    stream = mixed_stream(uuid.uuid4().hex[:10], stories=40, members=8)
    topic = deployment.topic(STREAM_TOPIC)
    stream.publish(deployment)
    total = len(stream.records)
    first = deployment.start_worker()
    wait_for(
        lambda: (
            committed(deployment, topic) > 0 and indexed(es, deployment.settings.index_alias) > 0
        ),
        180,
        "a first commit",
        first.log,
    )
    first.kill()  # SIGKILL: no shutdown hook, no final commit
    at_kill = committed(deployment, topic)
    # after a commit and before the end: work done but not committed is redone after restart
    assert 0 < at_kill < total, f"killed at {at_kill} of {total} committed: not mid-stream"
    second = deployment.start_worker()
    wait_for(lambda: processed(deployment, stream), 300, "all records after restart", second.log)
    assert_stream_outcome(es, deployment, stream)


def test_second_worker_joins_then_leaves(deployment: Deployment, es: Elasticsearch) -> None:
    stream = mixed_stream(uuid.uuid4().hex[:10], stories=40, members=8)
    step = len(stream.records) // 6 + 1
    parts = [slice(start, start + step) for start in range(0, len(stream.records), step)]
    first = deployment.start_worker()
    stream.publish(deployment, parts[0])
    wait_for(lambda: processed(deployment, stream), 180, "the first worker", first.log)
    second = deployment.start_worker()  # rebalance: partitions split between two workers
    topic = deployment.topic(STREAM_TOPIC)
    wait_for(lambda: members_reading(deployment, topic) == 2, 180, "the rebalance", second.log)
    for part in parts[1:4]:
        stream.publish(deployment, part)
        time.sleep(2)
    wait_for(lambda: processed(deployment, stream), 240, "progress with two workers", second.log)
    assert records_counted(second) > 0, "the second worker never took part"
    second.stop()  # rebalance back to one worker
    for part in parts[4:]:
        stream.publish(deployment, part)
    wait_for(lambda: processed(deployment, stream), 300, "all records", first.log)
    assert_stream_outcome(es, deployment, stream)
    assert first.alive(), first.log()
