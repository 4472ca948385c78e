"""The erasure ledger: the compacted `intake.erasures` topic read whole into a set of keys.

Every worker (and `reindex --from kafka`, and the dead-letter tools) reads the topic from its
start, by position and in no consumer group, then reads on to the current end offsets at each
`catch_up` (one end-offsets request when nothing is new). A lookup is a set membership test.
A tombstone never takes a key out: an erasure cannot be undone by deleting its record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from pipeline.clients import kafka_config, new_kafka_client
from pipeline.errors import KafkaBackpressure, KafkaUnavailable
from pipeline.ingest.erasure import Erasure, erasures_topic
from pipeline.settings import Settings

__all__ = ["ErasureLedger", "ErasuresUnavailable", "append_erasures"]

log = logging.getLogger(__name__)

# how often a worker looks again for a ledger topic that does not exist yet
_MISSING_TOPIC_LOOK_S = 10.0
_POLL_MS = 500
_IDLE_POLLS = 20


class ErasuresUnavailable(KafkaBackpressure):
    """The ledger could not be read: backpressure (the batch pauses and is retried, nothing is
    dead-lettered), since going on without it could index an erased report."""

    stream = "the erasure ledger"


class ErasureLedger:
    """The keys (`source:id`) of every erased report, kept up to date by `catch_up`."""

    def __init__(self, settings: Settings, keys: Iterable[str] = ()) -> None:
        self.settings = settings
        self.topic = erasures_topic(settings.topic_prefix)
        self.keys: set[str] = set(keys)
        self._consumer: Any = None
        self._partitions: list[Any] = []
        self._looked = float("-inf")
        self._warned = False

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    def __len__(self) -> int:
        return len(self.keys)

    def _assigned(self) -> bool:
        """True once the topic's partitions are assigned (looked for again every 10 s)."""
        if self._partitions:
            return True
        if time.monotonic() - self._looked < _MISSING_TOPIC_LOOK_S:
            return False
        self._looked = time.monotonic()
        from kafka import KafkaConsumer, TopicPartition

        if self._consumer is None:
            self._consumer = new_kafka_client(
                KafkaConsumer,
                # never auto-created: an uncompacted ledger would lose erasures to retention
                **kafka_config(
                    self.settings,
                    group_id=None,
                    enable_auto_commit=False,
                    allow_auto_create_topics=False,
                ),
            )
        found = self._consumer.partitions_for_topic(self.topic)
        if not found:
            # Kafka shows a topic one may not describe as missing: both read as no erasures
            # yet, so say it loudly (`topics ensure` creates the ledger and grants its ACLs)
            level = logging.DEBUG if self._warned else logging.WARNING
            log.log(level, "erasure ledger %s missing or not visible: no erasures", self.topic)
            self._warned = True
            return False
        self._partitions = [TopicPartition(self.topic, p) for p in sorted(found)]
        self._consumer.assign(self._partitions)
        self._consumer.seek_to_beginning(*self._partitions)
        return True

    def catch_up(self) -> set[str]:
        """Read on to the end offsets of now; the keys first seen by this call."""
        import kafka.errors

        try:
            if not self._assigned():
                return set()
            return self._read_to_end()
        except (kafka.errors.KafkaError, KafkaUnavailable) as exc:
            raise ErasuresUnavailable(f"reading the erasure ledger {self.topic}: {exc}") from exc

    def _read_to_end(self) -> set[str]:
        consumer = self._consumer
        ends = consumer.end_offsets(self._partitions)
        behind = {tp for tp in self._partitions if consumer.position(tp) < ends[tp]}
        fresh: set[str] = set()
        idle = 0
        while behind:
            polled = consumer.poll(timeout_ms=_POLL_MS)
            idle = 0 if polled else idle + 1
            if idle >= _IDLE_POLLS:
                raise KafkaUnavailable(f"no progress reading {self.topic} to its end")
            for records in polled.values():
                for record in records:
                    if record.key is None or record.value is None:
                        continue  # a tombstone erases nothing and restores nothing
                    key = record.key.decode("utf-8", "replace")
                    if key not in self.keys:
                        self.keys.add(key)
                        fresh.add(key)
            behind = {tp for tp in behind if consumer.position(tp) < ends[tp]}
        return fresh

    def close(self) -> None:
        """Close the ledger's consumer."""
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
            self._partitions = []


def append_erasures(settings: Settings, erasures: Iterable[Erasure]) -> int:
    """Append `erasures` to the ledger; returns once the broker acknowledged every one."""
    from kafka import KafkaProducer

    from pipeline.errors import map_kafka_errors

    topic = erasures_topic(settings.topic_prefix)
    require_topic(settings, topic)
    sent = 0
    with map_kafka_errors(f"appending to {topic}"):
        producer = new_kafka_client(
            KafkaProducer, **kafka_config(settings, acks="all", enable_idempotence=True)
        )
        try:
            futures = [
                producer.send(topic, key=e.key.encode(), value=e.to_json()) for e in erasures
            ]
            producer.flush()
            for future in futures:
                future.get(timeout=30)
                sent += 1
        finally:
            producer.close()
    return sent


def require_topic(settings: Settings, topic: str) -> None:
    """Raise unless `topic` exists: a producer must never auto-create the ledger uncompacted."""
    from kafka import KafkaAdminClient

    from pipeline.errors import map_kafka_errors

    with map_kafka_errors(f"describing {topic}"):
        admin = new_kafka_client(KafkaAdminClient, **kafka_config(settings))
        try:
            [found] = admin.describe_topics([topic])
        finally:
            admin.close()
    if found.get("error_code") != 0:
        raise KafkaUnavailable(
            f"the erasure ledger {topic} does not exist; create it with `pipeline topics ensure`"
        )
