"""Bench harness: isolated deployments on the shared stack, worker processes, publishing, polling.

A `Deployment` is one pipeline instance on the shared Kafka broker and Elasticsearch node,
isolated by a unique topic prefix, consumer group and index alias (as tests/worker does), so a
bench run never sees another run's data and leaves nothing behind (`Deployment.remove`).
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.clients import identity_env, kafka_config
from pipeline.ingest.sources import dlq_topic, intake_topics
from pipeline.settings import Settings
from tests.harness import free_port

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from pipeline.dev.demo import DemoRecord

REPO = Path(__file__).resolve().parent.parent


def progress(message: str) -> None:
    """One progress line on stderr (stdout carries only the table)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def unique_name(prefix: str) -> str:
    """`prefix-<8 hex>`: lowercase, valid as topic prefix, group id and index name."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a live process in MB; None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


@dataclass
class WorkerProcess:
    """One `pipeline worker` subprocess; its peak RSS is sampled while it lives."""

    process: subprocess.Popen[bytes]
    log_path: Path
    peak_mb: float = 0.0

    def alive(self) -> bool:
        return self.process.poll() is None

    def sample(self) -> None:
        """Read VmHWM now (it only grows, so the last read before exit is the peak)."""
        rss = peak_rss_mb(self.process.pid)
        if rss is not None:
            self.peak_mb = max(self.peak_mb, rss)

    def stop(self, timeout_s: float = 60.0) -> None:
        self.sample()
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class Deployment:
    """Topics, group and alias of one isolated pipeline instance, and its workers."""

    settings: Settings
    name: str
    log_dir: Path
    workers: list[WorkerProcess] = field(default_factory=list)
    # how to start one worker; a bench can point it at a patched worker to compare
    command: list[str] = field(default_factory=lambda: [sys.executable, "-m", "pipeline", "worker"])

    @property
    def intake(self) -> list[str]:
        return list(intake_topics(self.settings.topic_prefix))

    @property
    def dlq(self) -> str:
        return dlq_topic(self.settings.topic_prefix)

    @property
    def alias(self) -> str:
        return self.settings.index_alias

    def topic(self, unprefixed: str) -> str:
        return f"{self.settings.topic_prefix}{unprefixed}"

    def env(self, port: int) -> dict[str, str]:
        s = self.settings
        env = dict(os.environ)
        if not s.uses_local_stack:
            env.update(KAFKA_BOOTSTRAP_SERVERS=s.kafka_servers, ELASTICSEARCH_URL=s.es_url)
        # the worker's own state (faust's data directory) stays with the bench's logs, never
        # in the shared stack's state dir; faust makes only the last level of its datadir
        state = self.log_dir / f"{self.name}-state"
        (state / "faust").mkdir(parents=True, exist_ok=True)
        env.update(
            PIPELINE_STATE_DIR=str(state),
            PIPELINE_TOPIC_PREFIX=s.topic_prefix,
            PIPELINE_CONSUMER_GROUP=s.consumer_group,
            PIPELINE_INDEX_ALIAS=s.index_alias,
            PIPELINE_WORKER_PORT=str(port),
            PIPELINE_BATCH_SIZE=str(s.batch_size),
            PIPELINE_BATCH_TIMEOUT_S=str(s.batch_timeout_s),
            PIPELINE_LOG_FORMAT="json",
        )
        # its own state dir holds no stack credentials: pass the worker's (none without security)
        env.update(identity_env(s, "worker"))
        return env

    def start_workers(self, count: int) -> list[WorkerProcess]:
        started = []
        for _ in range(count):
            log_path = self.log_dir / f"{self.name}-worker-{len(self.workers)}.log"
            with log_path.open("ab") as log:
                process = subprocess.Popen(
                    self.command,
                    env=self.env(free_port()),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=REPO,
                )
            worker = WorkerProcess(process, log_path)
            self.workers.append(worker)
            started.append(worker)
        return started

    def stop_workers(self) -> float:
        """Stop every worker; return the largest peak RSS (MB) any of them reached."""
        peak = 0.0
        for worker in self.workers:
            worker.stop()
            peak = max(peak, worker.peak_mb)
        self.workers.clear()
        return peak

    def check_workers(self) -> None:
        """Sample RSS; raise with the log tail if a worker died."""
        for worker in self.workers:
            worker.sample()
            if not worker.alive():
                raise RuntimeError(
                    f"worker pid {worker.process.pid} exited with {worker.process.returncode}; "
                    f"log {worker.log_path}:\n{worker.log_tail()}"
                )


@contextmanager
def deployment(
    base: Settings,
    es: Elasticsearch,
    log_dir: Path,
    prefix: str,
    command: list[str] | None = None,
    **updates: Any,
) -> Iterator[Deployment]:
    """A fresh deployment with its topics created; workers stopped and everything deleted after.

    `command` starts one worker instead of `python -m pipeline worker` (to A/B a patch).
    """
    from pipeline.admin.topics import ensure_topics

    name = unique_name(prefix)
    settings = base.model_copy(
        update={
            "topic_prefix": f"{name}.",
            "consumer_group": f"{name}-group",
            "index_alias": f"{name}-reports",
            **updates,
        }
    )
    deployed = Deployment(settings, name, log_dir)
    if command:
        deployed.command = command
    ensure_topics(settings)
    try:
        yield deployed
    finally:
        deployed.stop_workers()
        remove(deployed, es)


def remove(deployed: Deployment, es: Elasticsearch) -> None:
    """Delete the deployment's topics, consumer groups, indices and templates."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(**kafka_config(deployed.settings))
    try:
        existing = set(admin.list_topics())
        mine = [t for t in existing if t.startswith(deployed.name)]
        if mine:
            admin.delete_topics(mine)
        groups = [str(g.get("group_id", "")) for g in admin.list_groups()]
        ours = [g for g in groups if g.startswith(deployed.name)]
        if ours:
            admin.delete_groups(ours)
    finally:
        admin.close()
    quiet = es.options(ignore_status=404)
    quiet.indices.delete(index=f"{deployed.name}-*", expand_wildcards="all")
    quiet.indices.delete_index_template(name=f"{deployed.name}-*")


def group_state(settings: Settings) -> tuple[str, int]:
    """(state, member count) of the deployment's consumer group."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(**kafka_config(settings))
    try:
        info = admin.describe_groups([settings.consumer_group]).get(settings.consumer_group) or {}
    finally:
        admin.close()
    return str(info.get("group_state", "")), len(info.get("members") or [])


def wait_until(
    predicate: Callable[[], bool],
    what: str,
    *,
    timeout_s: float,
    every_s: float = 0.5,
    check: Callable[[], None] = lambda: None,
) -> float:
    """Poll until `predicate()`; return when (time.time()); raise after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        check()
        if predicate():
            return time.time()
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(every_s)


def wait_group_stable(deployed: Deployment, members: int, timeout_s: float = 240.0) -> None:
    """Wait until the group is Stable with `members` consumers (partitions assigned)."""

    def stable() -> bool:
        state, count = group_state(deployed.settings)
        return state == "Stable" and count == members

    wait_until(
        stable,
        f"group {deployed.settings.consumer_group} stable with {members} member(s)",
        timeout_s=timeout_s,
        every_s=1.0,
        check=deployed.check_workers,
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
