"""Bench helpers: how a bench deploys, publishes, polls and measures.

Deployments and worker processes are the tests' harness (`tests/harness.py`): each bench phase
runs on its own topic prefix, consumer group and index alias on the shared Kafka broker and
Elasticsearch node, so a run never sees another run's data and leaves nothing behind.
"""

from __future__ import annotations

import math
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.clients import kafka_config
from pipeline.settings import Settings
from tests.harness import Deployment, deployed, wait_for

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from pipeline.dev.demo import DemoRecord


def progress(message: str) -> None:
    """One progress line on stderr (stdout carries only the table)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def unique_name(prefix: str) -> str:
    """`prefix-<8 hex>`: lowercase, valid as topic prefix, group id and index name."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def deployment(
    base: Settings, log_dir: Path, prefix: str, command: list[str] | None = None
) -> AbstractContextManager[Deployment]:
    """A fresh deployment named `prefix-<8 hex>`, set up as an operator's: the pipeline's own
    topics, its workers each with a state dir of their own; everything deleted after.

    `command` starts one worker instead of `python -m pipeline worker` (to A/B a patch).
    """
    return deployed(base, unique_name(prefix), log_dir, command=command, standalone=True)


def group_state(settings: Settings) -> tuple[str, int]:
    """(state, member count) of the deployment's consumer group."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(**kafka_config(settings))
    try:
        info = admin.describe_groups([settings.consumer_group]).get(settings.consumer_group) or {}
    finally:
        admin.close()
    return str(info.get("group_state", "")), len(info.get("members") or [])


def wait_group_stable(dep: Deployment, members: int, timeout_s: float = 240.0) -> None:
    """Wait until the group is Stable with `members` consumers (partitions assigned)."""

    from kafka.errors import KafkaError

    def stable() -> bool:
        try:
            state, count = group_state(dep.settings)
        except KafkaError as exc:
            if exc.retriable:  # e.g. the coordinator still loading on a freshly started broker
                return False
            raise
        return state == "Stable" and count == members

    wait_for(
        stable,
        timeout_s,
        f"group {dep.settings.consumer_group} stable with {members} member(s)",
        every_s=1.0,
        check=dep.check_workers,
    )


def producer(settings: Settings, **overrides: Any) -> Any:
    """A kafka-python producer for publishing bench records."""
    from kafka import KafkaProducer

    options = {"acks": "all", "linger_ms": 5, **overrides}
    return KafkaProducer(**kafka_config(settings, **options))


def publish(settings: Settings, records: Iterable[DemoRecord]) -> int:
    """Publish demo records to the deployment's (prefixed) topics as fast as possible."""
    sent = 0
    prod = producer(settings, batch_size=256 * 1024)
    try:
        for record in records:
            prod.send(f"{settings.topic_prefix}{record.topic}", key=record.key, value=record.value)
            sent += 1
        prod.flush(timeout=120)
    finally:
        prod.close()
    return sent


def indexed_count(es: Elasticsearch, alias: str) -> int:
    """Documents searchable in `alias` now (no refresh forced: searchable means refreshed)."""
    if not es.indices.exists_alias(name=alias):
        return 0
    return int(es.count(index=alias)["count"])


class LagReader:
    """Records in the intake topics the deployment's group has not committed yet.

    Holds one admin client and one group-less consumer; `close()` when done.
    """

    def __init__(self, settings: Settings, topics: list[str]) -> None:
        from kafka import KafkaAdminClient, KafkaConsumer

        self._group = settings.consumer_group
        self._topics = topics
        self._admin = KafkaAdminClient(**kafka_config(settings))
        self._consumer = KafkaConsumer(
            **kafka_config(settings, group_id=None, enable_auto_commit=False)
        )

    def total(self) -> int:
        """Sum over every partition of end offset minus committed offset (none committed: all)."""
        from kafka import TopicPartition

        committed = self._admin.list_group_offsets({self._group: None}).get(self._group, {})
        done = {
            (tp.topic, tp.partition): meta.offset
            for tp, meta in committed.items()
            if meta.offset is not None and meta.offset >= 0
        }
        partitions = [
            TopicPartition(topic, p)
            for topic in self._topics
            for p in sorted(self._consumer.partitions_for_topic(topic) or ())
        ]
        ends = self._consumer.end_offsets(partitions)
        return sum(
            max(int(end) - done.get((tp.topic, tp.partition), 0), 0) for tp, end in ends.items()
        )

    def close(self) -> None:
        self._consumer.close()
        self._admin.close()


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100), nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = min(max(math.ceil(q / 100 * len(ordered)), 1), len(ordered))
    return ordered[rank - 1]


def wait_progress(
    read: Callable[[], int],
    done: Callable[[int], bool],
    what: str,
    *,
    stall_s: float,
    every_s: float = 0.2,
    check: Callable[[], None] = lambda: None,
) -> float:
    """Poll `read()` until `done(value)`; return when (time.time()).

    Fails only when the value stops moving for `stall_s`, not after a fixed time: on a shared,
    noisy machine a slow run is still a run, a stuck one is not.
    """
    last_value: int | None = None
    last_change = last_report = time.monotonic()
    while True:
        check()
        value = read()
        reached = time.time()
        if done(value):
            return reached
        now = time.monotonic()
        if value != last_value:
            last_value, last_change = value, now
        elif now - last_change > stall_s:
            raise TimeoutError(f"{what}: stuck at {value} for {stall_s:.0f}s")
        if now - last_report >= 10:
            progress(f"  {what}: {value}")
            last_report = now
        time.sleep(every_s)


@dataclass(frozen=True)
class Steady:
    """What a steady run saw: when each record was published, and when `find` first named it
    (the time its answer came back) with what `find` said of it."""

    started: float
    published: dict[str, float]
    found: dict[str, tuple[float, Any]]
    missing: set[str]


def publish_steadily(
    dep: Deployment,
    sends: Sequence[tuple[str, str, bytes | None, bytes]],
    rate: float,
    find: Callable[[list[str]], dict[str, Any]],
    *,
    poll_s: float,
    drain_s: float,
) -> Steady:
    """Publish `sends` ((id, topic, key, value), topic unprefixed) at `rate`/s, each stamped
    just before it goes; every `poll_s` ask `find` which pending ids it sees now. Stops once
    every id is found, or `drain_s` after the last send was due."""
    prod = producer(dep.settings, linger_ms=0)
    published: dict[str, float] = {}
    found: dict[str, tuple[float, Any]] = {}
    pending: set[str] = set()
    started = next_poll = time.time()
    sent = 0
    try:
        while True:
            now = time.time()
            while sent < len(sends) and started + sent / rate <= now:
                record_id, topic, key, value = sends[sent]
                stamp = time.time()
                prod.send(dep.topic(topic), key=key, value=value, timestamp_ms=int(stamp * 1000))
                published[record_id] = stamp
                pending.add(record_id)
                sent += 1
            if now >= next_poll:
                next_poll = now + poll_s
                if pending:
                    answer = find(sorted(pending))
                    answered = time.time()
                    for record_id, said in answer.items():
                        found[record_id] = (answered, said)
                    pending.difference_update(answer)
                dep.check_workers()
            if sent == len(sends) and (not pending or now > started + len(sends) / rate + drain_s):
                break
            next_send = started + sent / rate if sent < len(sends) else next_poll
            time.sleep(max(0.0, min(next_send, next_poll) - time.time()))
    finally:
        prod.close()
    return Steady(started, published, found, pending)


def topic_size(settings: Settings, topic: str) -> int:
    """Records in `topic` (sum of end offsets; the bench's topics are never compacted)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(**kafka_config(settings, group_id=None, enable_auto_commit=False))
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(int(end) for end in consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def format_table(rows: list[dict[str, str]], columns: list[str]) -> str:
    """A plain fixed-width text table of `rows` (dicts keyed by `columns`)."""
    widths = [max(len(col), *(len(row.get(col, "")) for row in rows)) for col in columns]
    lines = ["  ".join(col.ljust(w) for col, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(row.get(col, "").ljust(w) for col, w in zip(columns, widths, strict=True))
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a live process has used (all its threads); None once gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the name in parentheses may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine since boot, all cores (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def stack_pids(settings: Settings) -> dict[str, int]:
    """PIDs of the local stack's Kafka and Elasticsearch (none for an external cluster)."""
    if not settings.uses_local_stack:
        return {}
    from pipeline.dev.stack.control import status

    return {s.name: s.pid for s in status(settings) if s.pid is not None}


class CpuMeter:
    """CPU seconds used between `__init__` and `stop()` by labelled processes and the machine.

    On a shared machine wall-clock rates swing with other people's work; the CPU a record
    costs each of our processes does not, so the bench reports both.
    """

    def __init__(self, pids: dict[str, list[int]]) -> None:
        self._pids = pids
        self._start = self._read()
        self._machine = machine_cpu_seconds()
        self._wall = time.monotonic()

    def _read(self) -> dict[str, float]:
        return {
            label: sum(cpu_seconds(pid) or 0.0 for pid in pids)
            for label, pids in self._pids.items()
        }

    def stop(self) -> dict[str, float]:
        """CPU seconds per label, plus `machine` (all processes) and `wall` seconds."""
        end = self._read()
        used = {label: end[label] - self._start[label] for label in end}
        used["machine"] = machine_cpu_seconds() - self._machine
        used["wall"] = time.monotonic() - self._wall
        return used
