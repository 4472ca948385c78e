"""Breaking and mending the local cluster: kill or stop one node, find leaders, restart."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import subprocess
import sys
import time
import warnings
from typing import Any

from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient

from pipeline.clients import kafka_config, new_kafka_client
from pipeline.dev.stack import elasticsearch, kafka, process
from pipeline.settings import Settings
from tests.harness import wait_for


def _admin(settings: Settings) -> KafkaAdminClient:
    return new_kafka_client(KafkaAdminClient, **kafka_config(settings, request_timeout_ms=10_000))


def partition_leader(settings: Settings, topic: str, partition: int = 0) -> int:
    """The broker leading `topic`'s `partition` now."""
    admin = _admin(settings)
    try:
        described = admin.describe_topics([topic])[0]
    finally:
        admin.close()
    return int(
        next(p for p in described["partitions"] if p["partition_index"] == partition)["leader_id"]
    )


def quorum_leader(settings: Settings) -> int | None:
    """The active KRaft controller, or None while the quorum has none. A connection the
    broker reset (a node just killed) leaves kafka-python 3.0.12 with an unclosed socket:
    collected here, where that is expected, not in some later test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return kafka.quorum_leader(settings)
        finally:
            gc.collect()


def controller_leader(settings: Settings, timeout_s: float = 60.0, not_: int = -1) -> int:
    """The active KRaft controller (other than `not_`), waiting up to `timeout_s` for one."""
    found: list[int] = []

    def elected() -> bool:
        leader = quorum_leader(settings)
        if leader is not None and leader != not_:
            found.append(leader)
        return bool(found)

    wait_for(elected, timeout_s, "an active controller", every_s=0.5)
    return found[0]


def in_sync(settings: Settings, prefix: str) -> bool:
    """Whether every partition of the topics named `prefix*` has all its replicas in sync."""
    admin = _admin(settings)
    try:
        topics = [t for t in admin.list_topics() if t.startswith(prefix)]
        described = admin.describe_topics(topics)
    finally:
        admin.close()
    return all(
        set(p["isr_nodes"]) == set(p["replica_nodes"])
        for topic in described
        for p in topic["partitions"]
    )


def kill_kafka(settings: Settings, node: int) -> None:
    """SIGKILL broker+controller `node`: no shutdown, no leadership handed over."""
    paths = kafka.KafkaPaths.of(settings, node)
    _kill(process.find_processes(paths.marker), paths.marker)


def stop_kafka(settings: Settings, node: int) -> None:
    """Stop broker+controller `node` as an operator would for a restart (SIGTERM: it hands
    its leaderships over and leaves cleanly)."""
    paths = kafka.KafkaPaths.of(settings, node)
    process.stop(process.find_processes(paths.marker), grace_s=60, markers=[paths.marker])


def es_node_to_kill(es: Elasticsearch, index: str) -> int:
    """A node holding a copy of `index` other than node 1 (the one the test's own checks start
    from; `test_elasticsearch_node_1_sigkilled_mid_stream` kills that one): the primary's
    when it is elsewhere, so a replica has to be promoted."""
    shards: list[dict[str, Any]] = es.cat.shards(index=index, format="json").body  # type: ignore[assignment]
    copies = [(str(row["prirep"]), str(row["node"])) for row in shards if row.get("node")]
    copies.sort(key=lambda copy: copy[0] != "p")  # primaries first
    for _, name in copies:
        if name != "node-1":
            return int(name.removeprefix("node-"))
    raise AssertionError(f"no copy of {index} is on a node other than node-1: {copies}")


def kill_elasticsearch(settings: Settings, node: int) -> None:
    """SIGKILL Elasticsearch node `node`."""
    paths = elasticsearch.ElasticsearchPaths.of(settings, node)
    _kill(process.find_processes(paths.marker), paths.marker)


def _kill(pids: list[int], marker: str) -> None:
    assert pids, f"nothing runs with {marker}"
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not process.find_processes(marker), process.EXIT_WAIT_S, f"{marker} gone")


def stack_env(settings: Settings) -> dict[str, str]:
    """The environment that points `pipeline stack` at the cluster of `settings`."""
    return {
        **os.environ,
        "PIPELINE_STATE_DIR": str(settings.state_dir),
        "STACK_KAFKA_PORT": str(settings.stack_kafka_port),
        "STACK_KAFKA_CONTROLLER_PORT": str(settings.stack_kafka_controller_port),
        "STACK_ES_PORT": str(settings.stack_es_port),
        "STACK_KAFKA_BROKERS": str(settings.stack_kafka_brokers),
        "STACK_ES_NODES": str(settings.stack_es_nodes),
        "STACK_KAFKA_HEAP": settings.stack_kafka_heap,
        "STACK_ES_HEAP": settings.stack_es_heap,
    }


def restart(settings: Settings) -> float:
    """Start what is down with `pipeline stack up`, as an operator would (in its own process,
    so the nodes it starts are not this one's children), and wait until every node is
    healthy; returns how long that took."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "stack", "up"],
        env=stack_env(settings),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return time.monotonic() - started
