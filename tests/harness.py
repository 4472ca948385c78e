"""Test harness shared by tests and benches: how a command, a worker process or a whole
isolated deployment reaches the stack."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from pipeline.admin.acls import grant
from pipeline.admin.topics import ensure_topics
from pipeline.clients import elasticsearch_client, identity_env, kafka_config, new_kafka_client
from pipeline.enrich.watch.publish import alerts_topic
from pipeline.ingest.sources import dlq_topic, intake_topics
from pipeline.settings import Settings

__all__ = [
    "REPO",
    "Deployment",
    "WorkerProcess",
    "deployed",
    "free_port",
    "free_ports",
    "peak_rss_mb",
    "produce_as",
    "stack_env",
    "wait_for",
]

REPO = Path(__file__).resolve().parent.parent


def stack_env(settings: Settings, identity: str = "admin") -> dict[str, str]:
    """Environment variables that point a command at `settings`' cluster, logged in as
    `identity` when the local stack runs with security (its credentials file holds them)."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_servers,
        "ELASTICSEARCH_URL": settings.es_hosts,
    }
    env.update(identity_env(settings, identity))
    return env


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback TCP ports nothing listens on right now (bound together to
    pick them, then released)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    return free_ports(1)[0]


def produce_as(settings: Settings, identity: str, topic: str) -> None:
    """Send one small record to `topic` logged in as `identity`; raises what the broker refused."""
    producer = new_kafka_client(
        KafkaProducer, **kafka_config(settings, identity=identity), max_block_ms=10_000
    )
    try:
        producer.send(topic, key=b"k", value=b"{}").get(timeout=15)
    finally:
        producer.close()


def wait_for(
    predicate: Callable[[], bool],
    timeout_s: float,
    what: str,
    on_timeout: Callable[[], str] = lambda: "",
    *,
    every_s: float = 0.5,
    check: Callable[[], None] = lambda: None,
) -> float:
    """Poll until `predicate()` holds and return when (time.time()); `check()` runs before
    each poll and may raise. After `timeout_s`, raise TimeoutError with `on_timeout()` (a
    worker's log, say) below the message."""
    deadline = time.monotonic() + timeout_s
    while True:
        check()
        if predicate():
            return time.time()
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"timed out after {timeout_s:.0f}s waiting for {what}\n{on_timeout()}"
            )
        time.sleep(every_s)


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
    """One `pipeline worker` subprocess: its HTTP port, its log, its peak RSS while it lives."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    peak_mb: float = 0.0

    def alive(self) -> bool:
        return self.process.poll() is None

    def sample(self) -> None:
        """Read VmHWM now (it only grows, so the last read before exit is the peak)."""
        rss = peak_rss_mb(self.process.pid)
        if rss is not None:
            self.peak_mb = max(self.peak_mb, rss)

    def stop(self, timeout_s: float = 60.0) -> int:
        """SIGTERM, SIGKILL after `timeout_s`; the exit code."""
        self.sample()
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log().splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class Deployment:
    """One isolated pipeline deployment on a shared cluster: its own topic prefix, consumer
    group and index alias (all named after `name`), and the worker processes started for it."""

    settings: Settings
    name: str
    log_dir: Path
    # how to start one worker; a bench can point it at a patched worker to compare
    command: list[str] = field(default_factory=lambda: [sys.executable, "-m", "pipeline", "worker"])
    # workers set up as an operator's: a state dir of their own (faust's data directory) under
    # `log_dir`, and on the local stack no cluster URLs, so they take it for the local stack
    # (index replicas 0). Otherwise they share the environment's state dir and are given the
    # URLs (a private stack on other ports is reached so).
    standalone: bool = False
    workers: list[WorkerProcess] = field(default_factory=list)

    @property
    def intake(self) -> list[str]:
        return list(intake_topics(self.settings.topic_prefix))

    @property
    def dlq(self) -> str:
        return dlq_topic(self.settings.topic_prefix)

    @property
    def alias(self) -> str:
        return self.settings.index_alias

    def topic(self, name: str) -> str:
        """The prefixed intake topic ending in `name` (`intake.hotline-calls`, `hotline-calls`)."""
        return next(t for t in self.intake if t.endswith(name))

    def env(self, port: int) -> dict[str, str]:
        """The environment of one `pipeline` process of this deployment (a worker with its
        HTTP server on `port`), logged in as the worker on a local stack with security."""
        s = self.settings
        env = dict(os.environ)
        if self.standalone:
            # faust makes only the last level of its datadir
            state = self.log_dir / f"{self.name}-state"
            (state / "faust").mkdir(parents=True, exist_ok=True)
            env["PIPELINE_STATE_DIR"] = str(state)
        if self.standalone and s.uses_local_stack:
            # its own state dir holds no stack credentials: pass the worker's
            env.update(identity_env(s, "worker"))
        else:
            env.update(stack_env(s, "worker"))
        env.update(
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
        return env

    def start_worker(self) -> WorkerProcess:
        port = free_port()
        log_path = self.log_dir / f"{self.name}-worker-{len(self.workers)}.log"
        with log_path.open("ab") as log:  # the child keeps its own copy of the handle
            process = subprocess.Popen(
                self.command, env=self.env(port), stdout=log, stderr=subprocess.STDOUT, cwd=REPO
            )
        worker = WorkerProcess(process, port=port, log_path=log_path)
        self.workers.append(worker)
        return worker

    def start_workers(self, count: int) -> list[WorkerProcess]:
        return [self.start_worker() for _ in range(count)]

    def check_workers(self) -> None:
        """Sample RSS; raise with the log tail if a worker died."""
        for worker in self.workers:
            worker.sample()
            if not worker.alive():
                raise RuntimeError(
                    f"worker pid {worker.process.pid} exited with {worker.process.returncode}; "
                    f"log {worker.log_path}:\n{worker.log_tail()}"
                )

    def stop_workers(self) -> float:
        """Stop every worker; return the largest peak RSS (MB) any of them reached."""
        peak = 0.0
        for worker in self.workers:
            worker.stop()
            peak = max(peak, worker.peak_mb)
        self.workers.clear()
        return peak

    def create_topics(self, partitions: int, configs: Mapping[str, str]) -> None:
        """The intake, dead-letter and alerts topics, `partitions` each with one replica and
        `configs`; and the deployment's ACLs (on a local stack with security on)."""
        admin = KafkaAdminClient(**kafka_config(self.settings))
        try:
            topics = [*self.intake, self.dlq, alerts_topic(self.settings.topic_prefix)]
            admin.create_topics(
                [NewTopic(t, partitions, 1, topic_configs=dict(configs)) for t in topics]
            )
        finally:
            admin.close()
        grant(self.settings)

    def _delete_groups(self, admin: KafkaAdminClient, timeout_s: float = 60.0) -> None:
        """Delete the deployment's consumer groups. A group whose stopped member the broker
        still counts (until its session times out) refuses deletion: try again until then."""
        deadline = time.monotonic() + timeout_s
        while True:
            groups = [str(g.get("group_id", "")) for g in admin.list_groups()]
            ours = [g for g in groups if g.startswith(self.name)]
            if not ours:
                return
            admin.delete_groups(ours)  # answers each group's error rather than raising
            if time.monotonic() > deadline:
                left = [str(g.get("group_id", "")) for g in admin.list_groups()]
                still = [g for g in left if g.startswith(self.name)]
                if still:
                    raise TimeoutError(f"consumer groups {still} would not be deleted")
                return
            time.sleep(1.0)

    def remove(self) -> None:
        """Delete everything named after the deployment: topics (faust's too), consumer groups,
        indices and index templates."""
        # a fresh client: the broker may have been restarted under an earlier one
        admin = KafkaAdminClient(**kafka_config(self.settings))
        try:
            mine = [t for t in admin.list_topics() if t.startswith(self.name)]
            if mine:
                admin.delete_topics(mine)
            self._delete_groups(admin)
        finally:
            admin.close()
        es = elasticsearch_client(self.settings)
        try:
            quiet = es.options(ignore_status=404)
            quiet.indices.delete(index=f"{self.name}-*", expand_wildcards="all")
            quiet.indices.delete_index_template(name=f"{self.name}-*")
        finally:
            es.close()


@contextmanager
def deployed(
    base: Settings,
    name: str,
    log_dir: Path,
    *,
    partitions: int | None = None,
    topic_configs: Mapping[str, str] | None = None,
    command: list[str] | None = None,
    standalone: bool = False,
    **updates: Any,
) -> Iterator[Deployment]:
    """A fresh deployment `name` on `base`'s cluster (prefix `name.`, group `name-group`, alias
    `name-reports`, settings `updates` on top) with its topics created; its workers stopped
    and everything named after it deleted after.

    Topics get `partitions` each, one replica and `topic_configs` (e.g. LogAppendTime); with
    no `partitions`, what `pipeline topics ensure` creates (the settings' sizes and retention).
    `command` starts one worker instead of `python -m pipeline worker` (to A/B a patch).
    """
    settings = base.model_copy(
        update={
            "topic_prefix": f"{name}.",
            "consumer_group": f"{name}-group",
            "index_alias": f"{name}-reports",
            **updates,
        }
    )
    deployment = Deployment(settings, name, log_dir, standalone=standalone)
    if command:
        deployment.command = command
    if partitions is None:
        ensure_topics(settings)  # grants its ACLs too
    else:
        deployment.create_topics(partitions, topic_configs or {})
    try:
        yield deployment
    finally:
        deployment.stop_workers()
        deployment.remove()
