"""Helpers and the `deployment` fixture: real worker processes against the real stack,
each test isolated by a unique topic prefix, consumer group and index alias."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError

from pipeline.admin.acls import grant
from pipeline.admin.dlq_store import read_dead_letters
from pipeline.clients import elasticsearch_client, identity_env, kafka_config
from pipeline.ingest.dlq import DeadLetter
from pipeline.ingest.sources import dlq_topic, intake_topics
from pipeline.settings import Settings
from tests.harness import free_port


@dataclass
class Deployment:
    """One isolated pipeline deployment on the shared stack: its topics, group and alias."""

    settings: Settings
    log_dir: Path
    workers: list[WorkerProcess] = field(default_factory=list)

    @property
    def topics(self) -> list[str]:
        return list(intake_topics(self.settings.topic_prefix))

    @property
    def dlq(self) -> str:
        return dlq_topic(self.settings.topic_prefix)

    def topic(self, suffix: str) -> str:
        return next(t for t in self.topics if t.endswith(suffix))

    def env(self, port: int) -> dict[str, str]:
        s = self.settings
        env = dict(os.environ)
        env.update(
            KAFKA_BOOTSTRAP_SERVERS=s.kafka_servers,
            ELASTICSEARCH_URL=s.es_url,
            PIPELINE_TOPIC_PREFIX=s.topic_prefix,
            PIPELINE_CONSUMER_GROUP=s.consumer_group,
            PIPELINE_INDEX_ALIAS=s.index_alias,
            PIPELINE_WORKER_PORT=str(port),
            PIPELINE_BATCH_SIZE=str(s.batch_size),
            PIPELINE_BATCH_TIMEOUT_S=str(s.batch_timeout_s),
            PIPELINE_RECORD_BUDGET_S=str(s.record_budget_s),
            PIPELINE_BATCH_BUDGET_S=str(s.batch_budget_s),
            PIPELINE_LOG_FORMAT="json",
        )
        # the worker's own identity on a local stack with security on (nothing otherwise)
        env.update(identity_env(s, "worker"))
        return env

    def start_worker(self) -> WorkerProcess:
        port = free_port()
        n = len(self.workers)
        log_path = self.log_dir / f"worker-{n}.log"
        with log_path.open("ab") as log_file:  # the child keeps its own copy of the handle
            process = subprocess.Popen(
                [sys.executable, "-m", "pipeline", "worker"],
                env=self.env(port),
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        worker = WorkerProcess(process, port=port, log_path=log_path)
        self.workers.append(worker)
        return worker

    def produce(
        self,
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
            **kafka_config(self.settings), acks="all", compression_type=compression
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

    def reindex_from_kafka(self) -> subprocess.CompletedProcess[str]:
        """Run `pipeline reindex --from kafka` for this deployment, as an operator would."""
        return subprocess.run(
            [sys.executable, "-m", "pipeline", "reindex", "--from", "kafka"],
            env=self.env(port=0),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def members_reading(self, topic: str) -> int:
        """How many members of the consumer group have partitions of `topic` assigned."""
        admin = KafkaAdminClient(**kafka_config(self.settings))
        try:
            info = admin.describe_groups([self.settings.consumer_group]).get(
                self.settings.consumer_group
            )
        except KafkaError:  # no coordinator yet (a fresh broker): nobody is reading
            return 0
        finally:
            admin.close()
        return sum(
            any(
                entry.get("topic") == topic and entry.get("partitions")
                for entry in (member.get("member_assignment") or {}).get("assigned_partitions")
                or []
            )
            for member in (info or {}).get("members") or []
        )

    def dead_letters(self) -> list[DeadLetter]:
        """Everything on the dead-letter topic now, read to its end offsets."""
        return list(read_dead_letters(self.settings, self.dlq))

    def committed(self, topic: str) -> int:
        """How many records of `topic` the consumer group has committed (sum over partitions)."""
        admin = KafkaAdminClient(**kafka_config(self.settings))
        try:
            group = self.settings.consumer_group
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


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 60) -> int:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def records_counted(self, outcome: str = "") -> float:
        """Records this worker processed with `outcome` (indexed, dead_lettered, stale; any
        when empty), from its /metrics."""
        text = httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=10).text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("ct_pipeline_records_total{") and f'outcome="{outcome}' in line
        )


@contextmanager
def deployed(
    base: Settings, name: str, log_dir: Path, topic_configs: Mapping[str, str] | None = None
) -> Iterator[Deployment]:
    """A fresh prefix/group/alias on `base`'s cluster with its topics created (with
    `topic_configs`, e.g. LogAppendTime); workers stopped and topics, indices and templates
    removed after."""
    deployment = Deployment(
        settings=base.model_copy(
            update={
                "topic_prefix": f"{name}.",
                "consumer_group": f"{name}-group",
                "index_alias": f"{name}-reports",
                "batch_size": 50,
                "batch_timeout_s": 0.2,
            }
        ),
        log_dir=log_dir,
    )
    topics = [*deployment.topics, deployment.dlq]
    admin = KafkaAdminClient(**kafka_config(base))
    try:
        configs = dict(topic_configs or {})
        admin.create_topics(
            [NewTopic(t, 3, 1, topic_configs=configs) for t in topics]  # 3 partitions, 1 replica
        )
    finally:
        admin.close()
    grant(deployment.settings)  # its ACLs, on a local stack with security on
    try:
        yield deployment
    finally:
        for worker in deployment.workers:
            worker.stop()
        # a fresh client: the broker may have been restarted under the first one
        admin = KafkaAdminClient(**kafka_config(base))
        try:
            admin.delete_topics(topics)
        finally:
            admin.close()
        es = elasticsearch_client(base)
        try:
            es.options(ignore_status=404).indices.delete(index=f"{name}-*", expand_wildcards="all")
            es.options(ignore_status=404).indices.delete_index_template(name=f"{name}-*")
        finally:
            es.close()


@pytest.fixture
def deployment(
    settings: Settings, unique_name: Callable[[str], str], tmp_path: Path
) -> Iterator[Deployment]:
    """An isolated deployment on the session stack."""
    with deployed(settings, unique_name("wk"), tmp_path) as deployment:
        yield deployment


def wait_for(
    predicate: Callable[[], bool],
    timeout: float,
    what: str,
    on_timeout: Callable[[], str] = lambda: "",
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{on_timeout()}")


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
        self.positions += deployment.produce(
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
    letters = deployment.dead_letters()
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
