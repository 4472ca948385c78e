"""Rebuild the index from Kafka, the source of truth: replay the intake topics into a new version.

The replay reads every intake partition from its earliest offset up to a snapshot of the end
offsets, hands batches to the live batch path (`ProcessBatch`, pipeline/flow/assemble.py, so
documents come out exactly as live ones do), swaps the alias, then replays up to the
then-current end offsets: what live workers wrote to the old index between the snapshot and
the swap is in Kafka too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pipeline.clients import kafka_config, new_kafka_client
from pipeline.errors import KafkaUnavailable, map_kafka_errors
from pipeline.flow.assemble import ProcessBatch
from pipeline.index.reindex import Progress, ReindexResult, finish, plan, prepare, swap_alias
from pipeline.ingest.records import RawRecord
from pipeline.worker.records import from_consumer_record

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from pipeline.settings import Settings

__all__ = ["reindex_from_kafka"]

log = logging.getLogger(__name__)

# a partition that makes no progress for this long although its end offset is ahead is stuck
IDLE_LIMIT_S = 60.0


def _no_progress(phase: str, done: int, total: int | None) -> None:
    """Default progress hook: report nothing."""


def _replay(
    consumer: Any,
    ends: dict[Any, int],
    process_batch: ProcessBatch,
    target: str,
    *,
    batch_size: int,
    phase: str,
    progress: Progress,
) -> tuple[int, int]:
    """Feed records below `ends` to `process_batch`; returns (records read, indexed)."""
    with map_kafka_errors("read positions"):
        remaining = {tp: end for tp, end in ends.items() if consumer.position(tp) < end}
        starts = {tp: consumer.position(tp) for tp in ends}
    total = sum(max(0, end - starts[tp]) for tp, end in ends.items())
    consumer.resume(*remaining)
    read = indexed = 0
    last_progress = time.monotonic()
    while remaining:
        with map_kafka_errors("poll"):
            polled = consumer.poll(timeout_ms=1000, max_records=batch_size)
        batch: list[RawRecord] = []
        for tp, records in polled.items():
            batch += [from_consumer_record(r) for r in records if r.offset < ends.get(tp, 0)]
        if batch:
            indexed += process_batch(batch, target)
            read += len(batch)
            last_progress = time.monotonic()
            progress(phase, read, total)
        with map_kafka_errors("read positions"):
            for tp in [tp for tp, end in remaining.items() if consumer.position(tp) >= end]:
                # past the snapshot: stop fetching it, the catch-up pass goes on from here
                consumer.pause(tp)
                del remaining[tp]
        if remaining and time.monotonic() - last_progress > IDLE_LIMIT_S:
            raise KafkaUnavailable(f"{phase}: no progress for {IDLE_LIMIT_S:.0f}s on {remaining}")
    return read, indexed


def reindex_from_kafka(
    es: Elasticsearch,
    settings: Settings,
    process_batch: ProcessBatch,
    *,
    topics: Iterable[str],
    version: int | None = None,
    delete_old: bool = False,
    batch_size: int = 500,
    progress: Progress = _no_progress,
) -> ReindexResult:
    """Replay `topics` into a new index version, swap the alias, catch up; see the module doc."""
    from kafka import KafkaConsumer, TopicPartition

    old, new = plan(es, settings, version)
    prepare(es, settings, new)
    group = f"{settings.consumer_group}-reindex-{new}"
    with map_kafka_errors("create reindex consumer"):
        consumer = new_kafka_client(
            KafkaConsumer,
            **kafka_config(
                settings, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
            ),
        )
    try:
        partitions = []
        with map_kafka_errors("list partitions"):
            for topic in topics:
                found = consumer.partitions_for_topic(topic)
                if not found:
                    raise KafkaUnavailable(f"topic {topic} does not exist or has no partitions")
                partitions += [TopicPartition(topic, p) for p in sorted(found)]
            # own group, explicit assignment: the replay never joins or disturbs the live group
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            snapshot = consumer.end_offsets(partitions)
        options: dict[str, Any] = {"batch_size": batch_size, "progress": progress}
        read, copied = _replay(consumer, snapshot, process_batch, new, phase="replay", **options)
        swap_alias(es, settings.index_alias, old, new)
        with map_kafka_errors("read end offsets"):
            latest = consumer.end_offsets(partitions)
        late, caught_up = _replay(consumer, latest, process_batch, new, phase="catch-up", **options)
        with map_kafka_errors("commit reindex offsets"):
            consumer.commit()
    finally:
        consumer.close(autocommit=False)
    deleted = finish(es, old, delete_old=delete_old)
    # records read but not indexed were dead-lettered (or counted stale) by `process_batch`
    return ReindexResult(old, new, copied, caught_up, read + late - copied - caught_up, deleted)
