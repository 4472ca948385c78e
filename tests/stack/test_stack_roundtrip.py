"""Round trips through the real broker and node: kafka-python, aiokafka, elasticsearch-py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from pipeline.clients import kafka_security_config
from pipeline.settings import Settings

pytestmark = pytest.mark.integration


def test_kafka_python_round_trip(
    kafka_config: dict[str, Any], topic_factory: Callable[..., str]
) -> None:
    from kafka import KafkaConsumer, KafkaProducer

    topic = topic_factory(partitions=2)
    producer = KafkaProducer(**kafka_config, acks="all")
    try:
        for n in range(10):
            producer.send(topic, key=f"k{n}".encode(), value=f"v{n}".encode())
        producer.flush()
    finally:
        producer.close()
    consumer = KafkaConsumer(
        topic, **kafka_config, auto_offset_reset="earliest", consumer_timeout_ms=10_000
    )
    try:
        received = {}
        for message in consumer:
            received[message.key] = message.value
            if len(received) == 10:
                break
    finally:
        consumer.close()
    assert received == {f"k{n}".encode(): f"v{n}".encode() for n in range(10)}


def test_aiokafka_round_trip(settings: Settings, topic_factory: Callable[..., str]) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    topic = topic_factory()
    common = {"bootstrap_servers": settings.kafka_servers, **kafka_security_config(settings)}

    async def round_trip() -> list[tuple[bytes | None, bytes | None]]:
        producer = AIOKafkaProducer(**common, compression_type="gzip")
        await producer.start()
        try:
            for n in range(5):
                await producer.send_and_wait(topic, key=f"k{n}".encode(), value=b"x" * n)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(topic, **common, auto_offset_reset="earliest")
        await consumer.start()
        try:
            got: list[tuple[bytes | None, bytes | None]] = []
            while len(got) < 5:
                batch = await consumer.getmany(timeout_ms=10_000)
                assert batch, "no records within 10 s"
                got += [(r.key, r.value) for records in batch.values() for r in records]
            return got
        finally:
            await consumer.stop()

    assert asyncio.run(round_trip()) == [(f"k{n}".encode(), b"x" * n) for n in range(5)]


def test_elasticsearch_round_trip(es: Elasticsearch, index_factory: Callable[..., str]) -> None:
    index = index_factory("rt")
    es.indices.create(index=index, mappings={"properties": {"text": {"type": "text"}}})
    es.index(index=index, id="1", document={"text": "a parcel left at the station"})
    es.index(index=index, id="2", document={"text": "nothing to see"}, refresh=True)
    hits = es.search(index=index, query={"match": {"text": "parcel"}})["hits"]["hits"]
    assert [hit["_id"] for hit in hits] == ["1"]


def test_index_factory_removes_aliases_and_templates(
    es: Elasticsearch, index_factory: Callable[..., str]
) -> None:
    from tests.conftest import delete_everything_named

    name = index_factory("cleanup")
    es.indices.put_index_template(name=f"{name}-tpl", index_patterns=[f"{name}-*"], template={})
    es.indices.create(index=f"{name}-000001", aliases={f"{name}-alias": {}})
    delete_everything_named(es, name)
    assert not es.indices.exists(index=f"{name}-000001")
    assert not es.indices.exists_alias(name=f"{name}-alias")
    assert not es.indices.exists_index_template(name=f"{name}-tpl")
