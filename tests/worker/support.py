"""Helpers and the `deployment` fixture: real worker processes against the real stack,
each test isolated by a unique topic prefix, consumer group and index alias."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from pipeline.ingest.sources import dlq_topic, intake_topics
from pipeline.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
            PIPELINE_LOG_FORMAT="json",
        )
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
    ) -> None:
        """Send with a plain kafka-python producer (an independent client), maybe compressed,
        to `partition` or wherever the key hashes."""
        producer = KafkaProducer(
            bootstrap_servers=self.settings.kafka_servers, acks="all", compression_type=compression
        )
        try:
            for key, value in records:
                producer.send(topic, key=key, value=value, partition=partition)
            producer.flush(timeout=30)
        finally:
            producer.close()


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


@contextmanager
def deployed(base: Settings, name: str, log_dir: Path) -> Iterator[Deployment]:
    """A fresh prefix/group/alias on `base`'s cluster with its topics created; workers
    stopped and topics, indices and templates removed after."""
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
    admin = KafkaAdminClient(bootstrap_servers=base.kafka_servers)
    try:
        admin.create_topics([NewTopic(t, num_partitions=3, replication_factor=1) for t in topics])
    finally:
        admin.close()
    try:
        yield deployment
    finally:
        for worker in deployment.workers:
            worker.stop()
        # a fresh client: the broker may have been restarted under the first one
        admin = KafkaAdminClient(bootstrap_servers=base.kafka_servers)
        try:
            admin.delete_topics(topics)
        finally:
            admin.close()
        es = Elasticsearch(base.es_url)
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
