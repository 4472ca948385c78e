"""Lag against the real broker, with a kafka-python consumer group standing in for the worker."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from pipeline.cli.lag import EXIT_STUCK, lag
from pipeline.clients import identity_env, kafka_config
from pipeline.dev.stack.artifacts import kafka_classpath
from pipeline.ingest.sources import Source
from pipeline.ops import metrics
from pipeline.ops.health import stuck_partitions_check
from pipeline.ops.history import LagRow, LagTracker
from pipeline.ops.lag import LagProbe
from pipeline.ops.status import Status
from pipeline.settings import Settings, get_settings
from pipeline.worker.observe import WorkerObserver
from tests.harness import stack_env

pytestmark = pytest.mark.integration

HOUR_MS = 3600 * 1000


@pytest.fixture
def produce(settings: Settings) -> Iterator[Callable[..., None]]:
    producer = KafkaProducer(**kafka_config(settings))

    def send(topic: str, count: int, *, partition: int = 0, age_s: float = 0.0) -> None:
        stamp = int((time.time() - age_s) * 1000)
        for i in range(count):
            producer.send(
                topic, key=f"id-{i}".encode(), value=b"{}", partition=partition, timestamp_ms=stamp
            )
        producer.flush()

    yield send
    producer.close()


@pytest.fixture
def probe(settings: Settings) -> Iterator[LagProbe]:
    with LagProbe(settings) as p:
        yield p


def group_consumer(settings: Settings, group: str, topic: str) -> KafkaConsumer:
    return KafkaConsumer(
        topic,
        **kafka_config(
            settings, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
        ),
    )


def consume(consumer: KafkaConsumer, count: int) -> list[object]:
    """Poll until `count` records arrived (joining the group on the way); commit nothing."""
    got: list[object] = []
    deadline = time.monotonic() + 60
    while len(got) < count and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            got.extend(records)
    assert len(got) == count, f"consumed {len(got)} of {count}"
    return got


def sample(tracker: LagTracker, probe: LagProbe, group: str) -> dict[int, LagRow]:
    tracker.add(probe.snapshot([group]))
    return {row.partition: row for row in tracker.rows() if row.group == group}


def test_lag_rises_while_stopped_and_returns_to_zero_after_resume(
    settings: Settings,
    topic_factory: Callable[..., str],
    unique_name: Callable[[str], str],
    produce: Callable[..., None],
    probe: LagProbe,
) -> None:
    topic, group = topic_factory(partitions=1, prefix="lag"), unique_name("g-lag")
    produce(topic, 5)
    worker = group_consumer(settings, group, topic)
    consume(worker, 5)
    worker.commit()
    worker.close()
    tracker = LagTracker(window=3)
    assert sample(tracker, probe, group)[0].lag == 0

    produce(topic, 4, age_s=120)  # the worker is stopped; records keep coming
    first = sample(tracker, probe, group)[0]
    produce(topic, 3, age_s=60)
    second = sample(tracker, probe, group)[0]
    assert (first.committed, first.lag, second.lag) == (5, 4, 7)
    # the oldest unprocessed record is one of the first four, stamped two minutes ago
    assert second.lag_seconds is not None and 110 < second.lag_seconds < 3600
    assert second.status is Status.STOP

    worker = group_consumer(settings, group, topic)  # resume
    consume(worker, 7)
    worker.commit()
    after = sample(tracker, probe, group)[0]
    worker.close()
    assert (after.committed, after.end, after.lag, after.lag_seconds) == (12, 12, 0, 0.0)
    assert after.status is Status.OK


def test_member_that_stops_committing_is_stall_and_a_busy_one_is_not(
    settings: Settings,
    topic_factory: Callable[..., str],
    unique_name: Callable[[str], str],
    produce: Callable[..., None],
    probe: LagProbe,
) -> None:
    topic, group = topic_factory(partitions=1, prefix="stall"), unique_name("g-stall")
    produce(topic, 3)
    worker = group_consumer(settings, group, topic)
    try:
        consume(worker, 3)
        worker.commit()
        busy, stuck = LagTracker(window=3), LagTracker(window=3)
        # Busy: records arrive between samples and the member commits its progress each time.
        for _ in range(3):
            produce(topic, 2)
            consume(worker, 2)
            rows = sample(busy, probe, group)
            worker.commit()
        assert rows[0].status is Status.OK
        # Stuck: still in the group (heartbeats go on), but never commits again.
        for _ in range(3):
            produce(topic, 2)
            rows = sample(stuck, probe, group)
        assert rows[0].members == 1
        assert rows[0].lag == 6
        assert rows[0].status is Status.STALL
    finally:
        worker.close()


def test_group_gone_with_lag_is_stop_and_the_command_exits_non_zero(
    settings: Settings,
    topic_factory: Callable[..., str],
    unique_name: Callable[[str], str],
    produce: Callable[..., None],
) -> None:
    topic, group = topic_factory(partitions=2, prefix="stop"), unique_name("g-stop")
    produce(topic, 4, partition=0)
    produce(topic, 2, partition=1)
    worker = group_consumer(settings, group, topic)
    consume(worker, 6)
    worker.commit({TopicPartition(topic, 0): OffsetAndMetadata(1, "", -1)})
    worker.commit({TopicPartition(topic, 1): OffsetAndMetadata(2, "", -1)})
    worker.close()

    result = run_cli(settings, group, "--json", "--samples", "2", "--interval", "0.2")
    assert result.exit_code == EXIT_STUCK, result.output
    body = json.loads(result.output)
    rows = {row["partition"]: row for row in body["partitions"] if row["group"] == group}
    assert (rows[0]["lag"], rows[0]["status"]) == (3, "STOP")
    assert (rows[1]["lag"], rows[1]["status"]) == (0, "OK")
    assert body["status"] == "STOP"
    assert {"group": group, "state": "Empty", "members": 0} in body["groups"]


def test_metrics_move_when_records_flow(
    settings: Settings,
    topic_factory: Callable[..., str],
    unique_name: Callable[[str], str],
    produce: Callable[..., None],
    probe: LagProbe,
) -> None:
    topic, group = topic_factory(partitions=1, prefix="metrics"), unique_name("g-metrics")
    produce(topic, 4)
    tracker = LagTracker(window=1)
    labels = {"group": group, "topic": topic, "partition": "0"}
    worker = group_consumer(settings, group, topic)
    try:
        consume(worker, 4)
        worker.commit({TopicPartition(topic, 0): OffsetAndMetadata(0, "", -1)})
        metrics.record_lag(r for r in sample(tracker, probe, group).values())
        assert metrics.REGISTRY.get_sample_value("ct_pipeline_consumer_lag_records", labels) == 4

        counted = {"source": "public_report", "outcome": "indexed"}
        before = metrics.REGISTRY.get_sample_value("ct_pipeline_records_total", counted) or 0
        worker.seek(TopicPartition(topic, 0), 0)
        for _record in consume(worker, 4):
            metrics.record_outcome(Source.PUBLIC_REPORT, metrics.Outcome.INDEXED)
        worker.commit()
        metrics.record_lag(r for r in sample(tracker, probe, group).values())
    finally:
        worker.close()
    assert metrics.REGISTRY.get_sample_value("ct_pipeline_records_total", counted) == before + 4
    assert metrics.REGISTRY.get_sample_value("ct_pipeline_consumer_lag_records", labels) == 0
    assert metrics.REGISTRY.get_sample_value("ct_pipeline_consumer_lag_seconds", labels) == 0


def test_json_agrees_with_kafka_consumer_group_command(
    settings: Settings,
    topic_factory: Callable[..., str],
    unique_name: Callable[[str], str],
    produce: Callable[..., None],
    tmp_path: Path,
) -> None:
    topic, group = topic_factory(partitions=3, prefix="cgc"), unique_name("g-cgc")
    for partition, count in enumerate((7, 3, 5)):
        produce(topic, count, partition=partition)
    worker = group_consumer(settings, group, topic)
    consume(worker, 15)
    worker.commit(
        {
            TopicPartition(topic, 0): OffsetAndMetadata(2, "", -1),
            TopicPartition(topic, 1): OffsetAndMetadata(3, "", -1),
            TopicPartition(topic, 2): OffsetAndMetadata(0, "", -1),
        }
    )
    worker.close()

    result = run_cli(settings, group, "--json", "--samples", "1")
    ours = {
        (row["topic"], row["partition"]): (row["committed"], row["end"], row["lag"])
        for row in json.loads(result.output)["partitions"]
        if row["group"] == group
    }
    theirs = consumer_group_command(settings, group, tmp_path)
    assert ours == theirs
    assert ours[topic, 0] == (2, 7, 5)


def run_cli(settings: Settings, group: str, *args: str) -> Result:
    env = {**stack_env(settings), "PIPELINE_CONSUMER_GROUP": group}
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(lag, list(args), env=env, catch_exceptions=False)
    finally:
        get_settings.cache_clear()


def consumer_group_command(
    settings: Settings, group: str, tmp_path: Path
) -> dict[tuple[str, int], tuple[int, ...]]:
    """Kafka's own `kafka-consumer-groups --describe`, parsed by its header."""
    java = shutil.which("java")
    assert java is not None
    argv = [
        java,
        "-Xmx256m",
        "-Dlog4j2.level=ERROR",
        "-cp",
        kafka_classpath(settings, lambda _: None),
        "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        "--bootstrap-server",
        settings.kafka_servers,
        "--describe",
        "--group",
        group,
    ]
    login = identity_env(settings, "admin")
    if login:  # the local stack with security: the tool logs in as the admin, like the tests
        config = tmp_path / "client.properties"
        jaas = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{login["KAFKA_SASL_USERNAME"]}" password="{login["KAFKA_SASL_PASSWORD"]}";'
        )
        config.write_text(
            f"security.protocol={login['KAFKA_SECURITY_PROTOCOL']}\n"
            f"sasl.mechanism={login['KAFKA_SASL_MECHANISM']}\n"
            f"sasl.jaas.config={jaas}\n"
        )
        argv += ["--command-config", str(config)]
    out = subprocess.run(
        argv, capture_output=True, text=True, timeout=180, check=True, env=dict(os.environ)
    ).stdout
    lines = [line.split() for line in out.splitlines() if line.strip()]
    header = next(line for line in lines if line[:2] == ["GROUP", "TOPIC"])
    col = {name: i for i, name in enumerate(header)}
    parsed = {}
    for line in lines:
        if line[0] == group and len(line) >= len(header) - 3:
            parsed[line[col["TOPIC"]], int(line[col["PARTITION"]])] = tuple(
                int(line[col[name]]) for name in ("CURRENT-OFFSET", "LOG-END-OFFSET", "LAG")
            )
    return parsed


def test_monitor_publishes_gauges_and_turns_the_stuck_check_red(
    settings: Settings,
    topic_factory: Callable[..., str],
    unique_name: Callable[[str], str],
    produce: Callable[..., None],
) -> None:
    topic, group = topic_factory(partitions=1, prefix="monitor"), unique_name("g-monitor")
    produce(topic, 3)
    worker = group_consumer(settings, group, topic)
    consume(worker, 3)
    worker.commit({TopicPartition(topic, 0): OffsetAndMetadata(1, "", -1)})
    worker.close()
    observer = WorkerObserver(settings.model_copy(update={"consumer_group": group}), {})
    check = stuck_partitions_check(observer.tracker.alarming)
    observer.refresh_lag()
    labels = {"group": group, "topic": topic, "partition": "0"}
    assert metrics.REGISTRY.get_sample_value("ct_pipeline_consumer_lag_records", labels) == 2
    result = check()
    assert not result.ok
    assert result.data == {"stuck": [f"{group}:{topic}/0=STOP"]}
