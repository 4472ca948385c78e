"""Reindex against the real node and broker: copy or replay, atomic swap, catch-up."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaProducer

from pipeline.clients import kafka_config
from pipeline.enrich.mentions import Enrichment
from pipeline.errors import ConfigError, RecordError
from pipeline.index.document import build_document, doc_id, doc_version
from pipeline.index.mapping import MAPPING_VERSION, ensure_index, index_name, resolve_alias
from pipeline.index.reindex import plan, reindex_from_index
from pipeline.index.sink import BulkSink, IndexAction
from pipeline.ingest.records import RawRecord
from pipeline.ingest.validate import parse_record
from pipeline.settings import Settings
from pipeline.worker.replay import ProcessBatch, reindex_from_kafka

pytestmark = pytest.mark.integration

BASE_MS = 1_772_353_800_000


def record(source_id: str, text: str, timestamp_ms: int = BASE_MS, topic: str = "t") -> RawRecord:
    value = {"id": source_id, "received_at": "2026-03-01T09:00:00+00:00", "description": text}
    return RawRecord(
        topic, 0, 0, source_id.encode(), orjson.dumps(value), timestamp_ms=timestamp_ms
    )


def simple_processor(es: Elasticsearch) -> ProcessBatch:
    """A real, minimal stand-in for the worker's processor: parse, empty enrichment, bulk."""
    sink = BulkSink(es, backoff_base=0.01)

    def process(records: list[RawRecord], target: str) -> int:
        actions = []
        for raw in records:
            try:
                # test topics are not named like intake topics; the content is a public report
                report = parse_record(dataclasses.replace(raw, topic="intake.public-reports"))
            except RecordError:
                continue
            document = build_document(report, Enrichment(), None, ingested_at=datetime.now(UTC))
            actions.append(
                IndexAction(doc_id(report.source, report.source_id), doc_version(report), document)
            )
        outcomes = sink.write(actions, index=target)
        return sum(outcome.status == "indexed" for outcome in outcomes)

    return process


@pytest.fixture
def alias_settings(settings: Settings, index_factory: Callable[[str], str]) -> Settings:
    return settings.model_copy(update={"index_alias": index_factory("rx")})


def texts(es: Elasticsearch, index: str) -> dict[str, str]:
    es.indices.refresh(index=index)
    hits = es.search(index=index, size=1000)["hits"]["hits"]
    return {hit["_source"]["source_id"]: hit["_source"]["text"] for hit in hits}


def test_reindex_from_index_swaps_and_catches_up_with_live_writes(
    es: Elasticsearch, alias_settings: Settings
) -> None:
    alias = alias_settings.index_alias
    old = ensure_index(es, alias_settings)
    write = simple_processor(es)
    assert write([record(f"r{n}", f"report {n}") for n in range(250)], alias) == 250
    es.indices.refresh(index=alias)

    seen_during: list[int] = []

    def live_worker(phase: str, done: int, total: int | None) -> None:
        # searches keep working, and a live worker keeps writing to the alias meanwhile
        seen_during.append(es.count(index=alias)["count"])
        if phase == "copy" and done == 100:  # after the first page of the scan
            write([record("late-1", "arrived during the copy")], alias)
            write([record("r5", "resent, newer", timestamp_ms=BASE_MS + 1)], alias)

    result = reindex_from_index(
        es, alias_settings, progress=live_worker, page=100, catch_up_margin=timedelta(0)
    )
    new = index_name(alias, MAPPING_VERSION + 1)
    assert (result.old_index, result.new_index) == (old, new)
    assert resolve_alias(es, alias) == [new]
    assert result.copied == 250
    assert result.caught_up == 2
    assert result.rejected == 0
    assert es.indices.exists(index=old), "the old index is kept by default"
    assert seen_during and min(seen_during) >= 250

    documents = texts(es, new)
    assert len(documents) == 251
    assert documents["late-1"] == "arrived during the copy"
    assert documents["r5"] == "resent, newer"
    version = es.get(index=new, id=doc_id("public_report", "r5"))["_version"]
    assert version == BASE_MS + 1, "external versions survive the copy"


def test_reindex_delete_old_and_refuse_existing_target(
    es: Elasticsearch, alias_settings: Settings
) -> None:
    alias = alias_settings.index_alias
    old = ensure_index(es, alias_settings)
    simple_processor(es)([record("a", "one")], alias)
    with pytest.raises(ConfigError, match="exists already"):
        plan(es, alias_settings, MAPPING_VERSION)
    result = reindex_from_index(es, alias_settings, version=7, delete_old=True)
    assert result.new_index == index_name(alias, 7)
    assert result.old_index_deleted
    assert not es.indices.exists(index=old)
    assert texts(es, alias) == {"a": "one"}


def test_reindex_from_kafka_replays_to_the_snapshot_then_catches_up(
    es: Elasticsearch,
    alias_settings: Settings,
    topic_factory: Callable[..., str],
) -> None:
    alias = alias_settings.index_alias
    old = ensure_index(es, alias_settings)
    topic = topic_factory(partitions=2, prefix="rxk")
    producer = KafkaProducer(**kafka_config(alias_settings, linger_ms=5))
    try:

        def publish(source_id: str, text: str) -> None:
            value = {
                "id": source_id,
                "received_at": "2026-03-01T09:00:00+00:00",
                "description": text,
            }
            producer.send(topic, key=source_id.encode(), value=orjson.dumps(value))

        for n in range(120):
            publish(f"k{n}", f"kafka report {n}")
        producer.send(topic, key=b"broken", value=b"{not json")
        producer.flush()

        def more_arrive(phase: str, done: int, total: int | None) -> None:
            if phase == "replay" and total is not None and done >= total:
                publish("after-snapshot", "published after the snapshot")
                publish("k7", "resent by upstream")
                producer.flush()

        result = reindex_from_kafka(
            es,
            alias_settings,
            simple_processor(es),
            topics=[topic],
            batch_size=50,
            progress=more_arrive,
        )
    finally:
        producer.close()

    assert result.old_index == old
    assert resolve_alias(es, alias) == [result.new_index]
    assert result.copied == 120
    assert result.caught_up == 2
    assert result.rejected == 1  # the broken record: dead-lettered by the processor
    documents = texts(es, alias)
    assert len(documents) == 121
    assert documents["after-snapshot"] == "published after the snapshot"
    assert documents["k7"] == "resent by upstream"


def test_reindex_from_kafka_builds_the_first_index_when_there_is_none(
    es: Elasticsearch,
    alias_settings: Settings,
    topic_factory: Callable[..., str],
) -> None:
    topic = topic_factory(partitions=1, prefix="rxk0")
    with KafkaProducer(**kafka_config(alias_settings)) as producer:
        for n in range(5):
            value = {"id": f"f{n}", "received_at": "2026-03-01T09:00:00+00:00", "description": "x"}
            producer.send(topic, key=f"f{n}".encode(), value=orjson.dumps(value))
        producer.flush()
    result = reindex_from_kafka(es, alias_settings, simple_processor(es), topics=[topic])
    assert result.old_index is None, result
    assert result.copied == 5, result
    assert resolve_alias(es, alias_settings.index_alias) == [
        index_name(alias_settings.index_alias, MAPPING_VERSION)
    ]
    assert len(texts(es, alias_settings.index_alias)) == 5
