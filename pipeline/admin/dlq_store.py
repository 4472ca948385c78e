"""Read the dead-letter topic and replay chosen records to their origin topics (kafka-python).

Dead letters of erased reports are skipped by every reader here, so `dlq list`, `show` and
`replay` never show or send one back: the erasure ledger (`intake.erasures`) is the marker
they honour, read whole before the dead letters (README, "Erasure").
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from pipeline.clients import kafka_config, new_kafka_client
from pipeline.errors import KafkaUnavailable, map_kafka_errors
from pipeline.ingest.dlq import DeadLetter, replay_message
from pipeline.ingest.erasure import record_key
from pipeline.settings import Settings

__all__ = ["ReplayResult", "Selection", "erased_keys", "fetch", "read_dead_letters", "replay"]

_POLL_MS = 1_000
_IDLE_POLLS = 10  # give up on a partition whose end offset is never reached (compaction, aborts)


@dataclass(frozen=True)
class Selection:
    """Which dead letters to act on; empty criteria match everything."""

    reasons: frozenset[str] = frozenset()
    origin_topics: frozenset[str] = frozenset()
    positions: frozenset[tuple[int, int]] = frozenset()

    def __call__(self, letter: DeadLetter) -> bool:
        return (
            (not self.reasons or letter.reason in self.reasons)
            and (not self.origin_topics or letter.origin_topic in self.origin_topics)
            and (not self.positions or (letter.partition, letter.offset) in self.positions)
        )


def erased_keys(settings: Settings) -> set[str]:
    """Every erased report's key, read from the erasure ledger now."""
    from pipeline.enrich.erasure import ErasureLedger

    ledger = ErasureLedger(settings)
    try:
        ledger.catch_up()
    finally:
        ledger.close()
    return ledger.keys


def is_erased(letter: DeadLetter, erased: Container[str]) -> bool:
    """True when the letter is a copy of an erased report (by origin topic and key)."""
    key = record_key(letter.origin_topic, letter.key)
    return key is not None and key in erased


def read_dead_letters(
    settings: Settings,
    topic: str,
    *,
    select: Callable[[DeadLetter], bool] = Selection(),
    erased: Container[str] | None = None,
) -> Iterator[DeadLetter]:
    """Every dead letter on `topic` now, oldest first per partition, but those of erased
    reports (`erased`, else the ledger read now); no consumer group is used."""
    if erased is None:
        erased = erased_keys(settings)
    with map_kafka_errors(f"reading {topic}"):
        consumer = new_kafka_client(
            KafkaConsumer, **kafka_config(settings, group_id=None, enable_auto_commit=False)
        )
    try:
        with map_kafka_errors(f"reading {topic}"):
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                raise KafkaUnavailable(f"topic {topic!r} does not exist")
            assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            consumer.seek_to_beginning(*assigned)
            ends = consumer.end_offsets(assigned)
        pending = {tp for tp in assigned if ends[tp] > consumer.position(tp)}
        idle = 0
        while pending and idle < _IDLE_POLLS:
            with map_kafka_errors(f"reading {topic}"):
                batches = consumer.poll(timeout_ms=_POLL_MS)
            idle = 0 if batches else idle + 1
            for tp, records in batches.items():
                for record in records:
                    if record.offset < ends[tp]:
                        letter = DeadLetter.from_record(record)
                        if select(letter) and not is_erased(letter, erased):
                            yield letter
                if consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
                    consumer.pause(tp)
    finally:
        consumer.close()


def fetch(
    settings: Settings,
    topic: str,
    partition: int,
    offset: int,
    *,
    erased: Container[str] | None = None,
) -> DeadLetter | None:
    """The dead letter at `partition`/`offset`, or None when there is none or it is a copy
    of an erased report."""
    if erased is None:
        erased = erased_keys(settings)
    tp = TopicPartition(topic, partition)
    with map_kafka_errors(f"reading {topic}"):
        consumer = new_kafka_client(
            KafkaConsumer, **kafka_config(settings, group_id=None, enable_auto_commit=False)
        )
    try:
        with map_kafka_errors(f"reading {topic}"):
            if partition not in (consumer.partitions_for_topic(topic) or set()):
                return None
            consumer.assign([tp])
            start = consumer.beginning_offsets([tp])[tp]
            end = consumer.end_offsets([tp])[tp]
            if not start <= offset < end:
                return None
            consumer.seek(tp, offset)
            for _ in range(_IDLE_POLLS):
                for record in consumer.poll(timeout_ms=_POLL_MS, max_records=1).get(tp, []):
                    if record.offset != offset:
                        return None
                    letter = DeadLetter.from_record(record)
                    return None if is_erased(letter, erased) else letter
        return None
    finally:
        consumer.close()


@dataclass
class ReplayResult:
    """What a replay did: letters sent back, and those it could not send with why."""

    replayed: list[DeadLetter] = field(default_factory=list)
    skipped: list[tuple[DeadLetter, str]] = field(default_factory=list)


def replay(
    settings: Settings,
    letters: Iterable[DeadLetter],
    *,
    dry_run: bool = False,
    producer_options: dict[str, Any] | None = None,
) -> ReplayResult:
    """Send each letter's original key, value and headers back to its origin topic.

    The `pipeline.replay.count` header is incremented. Records are sent in DLQ order with
    an idempotent producer and the call returns once the broker has acknowledged them.
    """
    result = ReplayResult()
    chosen = []
    for letter in letters:
        if not letter.origin_topic:
            result.skipped.append((letter, "no origin topic header"))
        elif letter.truncated:
            result.skipped.append(
                (
                    letter,
                    f"truncated: only part of its {letter.original_size} bytes was kept, so it"
                    " cannot be replayed; have the sender republish the original",
                )
            )
        elif letter.key is None and letter.value is None:
            result.skipped.append((letter, "a null value needs a key to be sent"))
        else:
            chosen.append(letter)
    if dry_run or not chosen:
        result.replayed = chosen
        return result
    options = kafka_config(
        settings, enable_idempotence=True, acks="all", **(producer_options or {})
    )
    with map_kafka_errors("replaying dead letters"):
        producer = new_kafka_client(KafkaProducer, **options)
        try:
            futures = []
            for letter in chosen:
                key, value, headers = replay_message(letter)
                futures.append(
                    producer.send(letter.origin_topic, key=key, value=value, headers=list(headers))
                )
            producer.flush()
            for letter, future in zip(chosen, futures, strict=True):
                if future.failed():
                    result.skipped.append((letter, f"send failed: {future.exception}"))
                else:
                    result.replayed.append(letter)
        finally:
            producer.close()
    return result
