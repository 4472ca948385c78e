"""The alerts topic and the alerts index on the real broker and node: the publisher, the
topic's ACLs, the `published` flag, and new fields added to an index made by older code."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import KafkaError

from pipeline.admin.topics import ensure_topics
from pipeline.clients import kafka_config, new_kafka_client
from pipeline.enrich.exact import extract_exact
from pipeline.enrich.watch.alerts import (
    MAPPING,
    AlertWriter,
    Sighting,
    alerts_index,
    ensure_alerts_index,
)
from pipeline.enrich.watch.matcher import Watchlist
from pipeline.enrich.watch.publish import (
    AlertPublisher,
    AlertRecord,
    AlertsUnavailable,
    alerts_topic,
    update_record,
)
from pipeline.settings import Settings
from tests.enrich.watch.factory import NOW, entry
from tests.enrich.watch.test_watch_publish import VALIDATOR
from tests.harness import produce_as

pytestmark = pytest.mark.integration


def read_alerts(settings: Settings, identity: str = "operator") -> list[tuple[str, dict[str, Any]]]:
    """Every record on the deployment's alerts topic now, as `identity` reads it by position
    (no consumer group): (key, value) in offset order per partition."""
    topic = alerts_topic(settings.topic_prefix)
    consumer = new_kafka_client(
        KafkaConsumer, **kafka_config(settings, identity=identity, group_id=None)
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        found: list[tuple[str, dict[str, Any]]] = []
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for batch in consumer.poll(timeout_ms=1000).values():
                found += [(m.key.decode(), json.loads(m.value)) for m in batch]
        return found
    finally:
        consumer.close()


@pytest.fixture
def deployment(settings: Settings, unique_name: Callable[[str], str]) -> Iterator[Settings]:
    """A prefix of its own with every topic `topics ensure` makes, and its ACLs."""
    name = unique_name("alerts")
    isolated = settings.model_copy(
        update={"topic_prefix": f"{name}.", "consumer_group": f"{name}-group"}
    )
    ensure_topics(isolated, partitions=1)
    yield isolated
    admin = new_kafka_client(KafkaAdminClient, **kafka_config(settings))
    try:
        admin.delete_topics([t for t in admin.list_topics() if t.startswith(name)])
    finally:
        admin.close()


def _set_max_message_bytes(settings: Settings, value: str | None) -> None:
    """Make the alerts topic refuse every record (a tiny limit), or take them again (None)."""
    admin = new_kafka_client(KafkaAdminClient, **kafka_config(settings))
    op = ("SET", value) if value is not None else ("DELETE", None)
    try:
        resource = ConfigResource(
            ConfigResourceType.TOPIC,
            alerts_topic(settings.topic_prefix),
            configs={"max.message.bytes": op},
        )
        admin.alter_configs([resource])
    finally:
        admin.close()


def _record(n: int) -> AlertRecord:
    alert = {"alert_id": f"{n:032x}", "entry_id": f"e{n}", "owner": "alice", "restricted": False}
    return update_record(alert, {"by": "bob", "at": NOW, "outcome": "noted"}, at=NOW)


def test_published_records_are_keyed_by_entry_and_read_by_operators(
    deployment: Settings,
) -> None:
    publisher = AlertPublisher(deployment)
    try:
        publisher.publish([_record(1), _record(2)])
        publisher.publish([])
    finally:
        publisher.close()
    found = read_alerts(deployment)
    assert [key for key, _ in found] == ["e1", "e2"]
    assert all(VALIDATOR.is_valid(value) for _, value in found)


def test_the_worker_and_both_api_identities_may_write_alerts_and_others_may_not(
    deployment: Settings,
) -> None:
    topic = alerts_topic(deployment.topic_prefix)
    for identity in ("worker", "api", "api-restricted"):
        produce_as(deployment, identity, topic)
    with pytest.raises(KafkaError):
        produce_as(deployment, "operator", topic)
    assert len(read_alerts(deployment)) == 3


def test_a_topic_that_refuses_records_is_backpressure_and_the_publisher_recovers(
    deployment: Settings,
) -> None:
    publisher = AlertPublisher(deployment)
    try:
        _set_max_message_bytes(deployment, "64")
        with pytest.raises(AlertsUnavailable) as refused:
            publisher.publish([_record(1)])
        assert refused.value.reason == "unreachable" and refused.value.retry_after > 0
        _set_max_message_bytes(deployment, None)
        publisher.publish([_record(1)])  # a new producer: the failed one is gone
    finally:
        publisher.close()
    assert [key for key, _ in read_alerts(deployment)] == ["e1"]


@pytest.fixture
def alias(es: Elasticsearch, unique_name: Callable[[str], str]) -> Iterator[str]:
    name = unique_name("alerts")
    yield name
    es.options(ignore_status=404).indices.delete(index=f"{name}-*")


def test_unpublished_alerts_are_found_in_one_read_and_marked_in_one_write(
    es: Elasticsearch, alias: str
) -> None:
    ensure_alerts_index(es, alias)
    writer = AlertWriter(es, alias)
    watched = entry("vehicle:AB12CDE", id="v")
    [match] = Watchlist([watched]).match(extract_exact("Van AB12 CDE"), NOW)
    sightings = [Sighting(match, f"r{n}", f"c{n}", "public_report", NOW) for n in range(3)]
    created = writer.write(sightings)
    assert len(created) == 3
    assert [d["alert_id"] for d in writer.unpublished([*created, "no-such-alert"])] == created
    writer.mark_published(created[:2])
    assert [d["alert_id"] for d in writer.unpublished(created)] == created[2:]
    writer.mark_published([])
    assert writer.unpublished([]) == []


def test_an_alerts_index_made_by_older_code_gets_the_new_fields(
    es: Elasticsearch, alias: str
) -> None:
    old = {
        "dynamic": "strict",
        "properties": {k: v for k, v in MAPPING["properties"].items() if k != "published"},
    }
    es.indices.create(index=alerts_index(alias), mappings=old)
    ensure_alerts_index(es, alias)
    ensure_alerts_index(es, alias)  # and again: adding what is there changes nothing
    mapping = es.indices.get_mapping(index=alerts_index(alias))[alerts_index(alias)]["mappings"]
    assert mapping["properties"]["published"] == {"type": "boolean"}
    assert mapping["dynamic"] == "strict"
