"""`stack up`/`down` on a second, private instance: idempotence, SIGKILL recovery, clean stop.

The shared dev stack is never touched: see tests/private_stack.py.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from pipeline.clients import elasticsearch_client, kafka_config
from pipeline.dev.stack import control, elasticsearch, kafka, process
from pipeline.settings import Settings
from tests.private_stack import private_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def instance() -> Iterator[Settings]:
    with private_stack() as settings:
        yield settings


def _pids(settings: Settings) -> dict[str, int | None]:
    return {s.name: s.pid for s in control.status(settings)}


def _produce_and_index(settings: Settings, topic: str) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(**kafka_config(settings), acks="all")
    try:
        for n in range(20):
            producer.send(topic, key=str(n).encode(), value=f"record {n}".encode())
        producer.flush()
    finally:
        producer.close()
    es = elasticsearch_client(settings)
    try:
        es.index(index="kept", id="doc-1", document={"text": "survives a crash"}, refresh=True)
    finally:
        es.close()


def _read_back(settings: Settings, topic: str) -> tuple[list[bytes], dict[str, object]]:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic, **kafka_config(settings), auto_offset_reset="earliest", consumer_timeout_ms=15_000
    )
    try:
        values = []
        for message in consumer:
            values.append(message.value)
            if len(values) == 20:
                break
    finally:
        consumer.close()
    es = elasticsearch_client(settings)
    try:
        doc = es.get(index="kept", id="doc-1")["_source"]
    finally:
        es.close()
    return values, doc


def test_up_is_idempotent_survives_sigkill_and_down_leaves_nothing(instance: Settings) -> None:
    control.up(instance, echo=lambda _: None)
    first = _pids(instance)
    assert all(first.values()), first

    control.up(instance, echo=lambda _: None)
    assert _pids(instance) == first

    _produce_and_index(instance, "kept-topic")
    for pid in first.values():
        assert pid is not None
        os.kill(pid, signal.SIGKILL)

    def all_gone() -> bool:
        return not any(_pids(instance).values())

    gone = process.wait_for(all_gone, timeout_s=process.EXIT_WAIT_S)
    assert gone, {name: (pid, process.process_state(pid)) for name, pid in first.items() if pid}

    control.up(instance, echo=lambda _: None)
    second = _pids(instance)
    assert all(second.values()) and second != first
    values, doc = _read_back(instance, "kept-topic")
    assert values == [f"record {n}".encode() for n in range(20)]
    assert doc == {"text": "survives a crash"}

    control.down(instance, echo=lambda _: None)
    markers = [
        kafka.KafkaPaths.of(instance).marker,
        elasticsearch.ElasticsearchPaths.of(instance).marker,
    ]
    assert [process.find_processes(marker) for marker in markers] == [[], []]
    assert not process.port_open(instance.stack_kafka_port)
    assert not process.port_open(instance.stack_es_port)
