"""Worker-test helpers and the `deployment` fixture: real worker processes against the real
stack (the harness is `tests/harness.py`), each test isolated by a unique topic prefix,
consumer group and index alias."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import KafkaError

from pipeline.admin.dlq_store import read_dead_letters
from pipeline.clients import kafka_config
from pipeline.ingest.dlq import DeadLetter
from pipeline.settings import Settings
from tests.harness import Deployment, WorkerProcess, deployed


def worker_deployment(
    base: Settings, name: str, log_dir: Path, topic_configs: Mapping[str, str] | None = None
) -> AbstractContextManager[Deployment]:
    """A deployment as the worker tests want one: three partitions a topic (with
    `topic_configs`, e.g. LogAppendTime) and small, quick batches."""
    return deployed(
        base,
        name,
        log_dir,
        partitions=3,
        topic_configs=topic_configs,
        batch_size=50,
        batch_timeout_s=0.2,
    )


@pytest.fixture
def deployment(
    settings: Settings, unique_name: Callable[[str], str], tmp_path: Path
) -> Iterator[Deployment]:
    """An isolated deployment on the session stack."""
    with worker_deployment(settings, unique_name("wk"), tmp_path) as deployment:
        yield deployment


def produce(
    deployment: Deployment,
    topic: str,
    records: list[tuple[bytes | None, bytes | None]],
    compression: str | None = None,
    partition: int | None = None,
    timestamps_ms: list[int] | None = None,
) -> list[tuple[int, int]]:
    """Send with a plain kafka-python producer (an independent client), maybe compressed,
    to `partition` or wherever the key hashes, with the producer's own CreateTime or the
    given ones; returns each record's (partition, offset)."""
    producer = KafkaProducer(
        **kafka_config(deployment.settings), acks="all", compression_type=compression
    )
    stamps: list[int | None] = list(timestamps_ms or [None] * len(records))
    try:
        futures = [
            producer.send(topic, key=key, value=value, partition=partition, timestamp_ms=ts)
            for (key, value), ts in zip(records, stamps, strict=True)
        ]
        producer.flush(timeout=30)
        sent = [future.get(timeout=30) for future in futures]
    finally:
        producer.close()
    return [(meta.partition, meta.offset) for meta in sent]


def reindex_from_kafka(deployment: Deployment) -> subprocess.CompletedProcess[str]:
    """Run `pipeline reindex --from kafka` for the deployment, as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "reindex", "--from", "kafka"],
        env=deployment.env(port=0),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def members_reading(deployment: Deployment, topic: str) -> int:
    """How many members of the consumer group have partitions of `topic` assigned."""
    group = deployment.settings.consumer_group
    admin = KafkaAdminClient(**kafka_config(deployment.settings))
    try:
        info = admin.describe_groups([group]).get(group)
    except KafkaError:  # no coordinator yet (a fresh broker): nobody is reading
        return 0
    finally:
        admin.close()
    return sum(
        any(
            entry.get("topic") == topic and entry.get("partitions")
            for entry in (member.get("member_assignment") or {}).get("assigned_partitions") or []
        )
        for member in (info or {}).get("members") or []
    )


def dead_letters(deployment: Deployment) -> list[DeadLetter]:
    """Everything on the dead-letter topic now, read to its end offsets."""
    return list(read_dead_letters(deployment.settings, deployment.dlq))


def committed(deployment: Deployment, topic: str) -> int:
    """How many records of `topic` the consumer group has committed (sum over partitions)."""
    group = deployment.settings.consumer_group
    admin = KafkaAdminClient(**kafka_config(deployment.settings))
    try:
        offsets = admin.list_group_offsets({group: None}).get(group, {})
    except KafkaError:  # no coordinator yet (a fresh broker): nothing committed
        return 0
    finally:
        admin.close()
    return sum(
        meta.offset
        for tp, meta in offsets.items()
        if tp.topic == topic and meta.offset is not None and meta.offset >= 0
    )


def records_counted(worker: WorkerProcess, outcome: str = "") -> float:
    """Records `worker` processed with `outcome` (indexed, dead_lettered, stale; any when
    empty), from its /metrics."""
    text = httpx.get(f"http://127.0.0.1:{worker.port}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("ct_pipeline_records_total{") and f'outcome="{outcome}' in line
    )


# Words for the mixed stream's narratives: stories drawn from them share no 3-word shingle in
# practice, so only the near-duplicates written on purpose can cluster.
_VOCABULARY = (
    "van car bag parcel station bridge market school mosque church depot garage flat "
    "alley carpark bus train platform tower gate fence roof window door shop cafe "
    "man woman youth driver courier guard neighbour stranger group pair "
    "filming photographing carrying leaving watching buying loading hiding passing "
    "circling asking shouting running waiting meeting dropping measuring sketching "
    "grey red blue black white silver green large small heavy new old torn "
    "morning evening night weekend daily twice again often slowly quickly nervously "
    "north south east west behind beside opposite inside outside near "
    "phone camera drone ladder rucksack suitcase holdall canister cable tape map "
    "notebook receipt chemicals fertiliser gloves mask hood jacket boots uniform"
)
_WORDS = tuple(_VOCABULARY.split())
STREAM_TOPIC = "public-reports"


@dataclass
class Stream:
    """A mixed intake stream (valid stories with near-duplicates, later revisions, bad
    records) and what the index and the dead-letter topic must hold once it is processed."""

    run: str
    records: list[tuple[bytes, bytes]] = field(default_factory=list)
    timestamps_ms: list[int] = field(default_factory=list)
    bad: set[int] = field(default_factory=set)  # indices into `records`
    latest: dict[str, str] = field(default_factory=dict)  # id -> text of its latest revision
    story: dict[str, int] = field(default_factory=dict)  # id -> the story it tells
    positions: list[tuple[int, int]] = field(default_factory=list)  # (partition, offset) sent

    def add(self, key: str, value: bytes, at_ms: int, *, bad: bool = False) -> None:
        if bad:
            self.bad.add(len(self.records))
        self.records.append((key.encode(), value))
        self.timestamps_ms.append(at_ms)

    def publish(self, deployment: Deployment, part: slice = slice(None)) -> None:
        """Send `records[part]` (in order, with their CreateTimes) to the public-reports topic
        and remember where each went."""
        indices = range(len(self.records))[part]
        assert indices.start == len(self.positions), "publish the parts in order"
        self.positions += produce(
            deployment,
            deployment.topic(STREAM_TOPIC),
            [self.records[i] for i in indices],
            timestamps_ms=[self.timestamps_ms[i] for i in indices],
        )


def mixed_stream(run: str, stories: int, members: int) -> Stream:
    """`stories` stories told by `members` reporters each in nearly the same words; then a
    second revision of every story's first two reports; one bad record per story, some of them
    a broken revision of a valid id (which must never replace its good revision).

    CreateTimes are explicit (rev 1 an hour ago, rev 2 half an hour ago, 1 ms apart) so no two
    revisions tie, however the records are split into produce calls."""
    stream = Stream(run)
    base = int(time.time() * 1000) - 3_600_000

    def body(rid: str, text: object, **extra: object) -> bytes:
        fields = {"id": rid, "received_at": "2026-11-21T09:00:00+00:00", "description": text}
        return json.dumps({**fields, **extra}).encode()

    for s in range(stories):
        words = random.Random(f"story-{s}").choices(_WORDS, k=30)
        for m in range(members):
            rid = f"{run}-{s}-{m}"
            # a near duplicate: the same 30 words, only the last one differs (Jaccard ~0.9)
            text = " ".join([*words[:-1], _WORDS[(s * 7 + m) % len(_WORDS)]]).capitalize() + "."
            stream.add(rid, body(rid, text), base + len(stream.records))
            stream.latest[rid] = text
            stream.story[rid] = s
        bad_key = f"{run}-{s}-bad"
        bad_kinds = [
            (bad_key, b"{not json"),
            (bad_key, json.dumps({"id": bad_key, "received_at": "2026-11-21T09:00Z"}).encode()),
            (bad_key, body(bad_key, 42)),
            (f"{run}-{s}-other", body(bad_key, "key and id differ")),
        ]
        key, value = bad_kinds[s % len(bad_kinds)]
        stream.add(key, value, base + len(stream.records), bad=True)
    revised = base + 1_800_000
    for s in range(stories):
        for m in range(2):
            rid = f"{run}-{s}-{m}"
            text = stream.latest[rid] + " Update: seen again on the same spot."
            stream.add(rid, body(rid, text), revised + len(stream.records))
            stream.latest[rid] = text
        if s % 3 == 0:  # a broken third revision: dead-lettered, the second stays indexed
            rid = f"{run}-{s}-0"
            stream.add(
                rid,
                body(rid, "x", received_at="yesterday"),
                revised + len(stream.records),
                bad=True,
            )
    return stream


def run_hits(
    es: Elasticsearch, deployment: Deployment, run: str, fields: list[str]
) -> list[dict[str, Any]]:
    """Every indexed document of one run (ids `<run>-...`), refreshed first, with `fields`."""
    alias = deployment.settings.index_alias
    es.indices.refresh(index=alias)
    hits: list[dict[str, Any]] = es.search(
        index=alias,
        query={"prefix": {"source_id": f"{run}-"}},
        size=10_000,
        source_includes=fields,
    )["hits"]["hits"]
    return hits


def assert_stream_outcome(es: Elasticsearch, deployment: Deployment, stream: Stream) -> None:
    """Every valid id indexed once with its latest revision, one `duplicate: false` per story's
    cluster, and the dead-letter topic holding exactly the bad records."""
    hits = run_hits(es, deployment, stream.run, ["source_id", "text", "cluster_id", "duplicate"])
    docs = {hit["_source"]["source_id"]: hit["_source"] for hit in hits}
    assert len(hits) == len(docs) == len(stream.latest), (len(hits), len(stream.latest))
    assert docs.keys() == stream.latest.keys()
    stale = sorted(rid for rid, doc in docs.items() if doc["text"] != stream.latest[rid])
    assert not stale, f"{len(stale)} documents do not hold their latest revision: {stale[:5]}"

    clusters: dict[str, set[int]] = {}
    openers: dict[str, int] = {}
    for rid, doc in docs.items():
        clusters.setdefault(doc["cluster_id"], set()).add(stream.story[rid])
        openers[doc["cluster_id"]] = openers.get(doc["cluster_id"], 0) + (not doc["duplicate"])
    assert all(len(told) == 1 for told in clusters.values()), "two stories share a cluster"
    assert len(clusters) == len(set(stream.story.values())), "a story split into clusters"
    wrong = [(cluster, n) for cluster, n in openers.items() if n != 1]
    assert not wrong, f"{len(wrong)} clusters without one `duplicate: false`: {wrong[:3]}"

    topic = deployment.topic(STREAM_TOPIC)
    bad = {stream.positions[i] for i in stream.bad}
    letters = dead_letters(deployment)
    origins = {(letter.origin_partition, letter.origin_offset) for letter in letters}
    assert {letter.origin_topic for letter in letters} <= {topic}
    # at least once: a batch redelivered after a crash may dead-letter a bad record twice
    assert origins == bad, (
        f"dead letters for valid records: {origins - bad}; missing: {bad - origins}"
    )


def readiness(deployment: Deployment) -> dict[str, object]:
    """The newest worker's /readyz body, with its HTTP status under `status_code`."""
    worker = deployment.workers[-1]
    response = httpx.get(f"http://127.0.0.1:{worker.port}/readyz", timeout=30)
    body: dict[str, object] = response.json()
    body["status_code"] = response.status_code
    return body


def failing_check(deployment: Deployment, check: str) -> dict[str, Any] | None:
    """The readiness check `check` while it keeps the worker unready (503), else None
    (also while the worker does not answer)."""
    try:
        body = readiness(deployment)
    except httpx.HTTPError:
        return None
    checks = body["checks"]
    assert isinstance(checks, dict)
    result = checks.get(check)
    if body["status_code"] != 503 or not isinstance(result, dict) or result.get("ok") is not False:
        return None
    return result
