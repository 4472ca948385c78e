"""The one record adapter: a consumed Kafka message as the pipeline's `RawRecord`, bytes untouched.

faust (live workers) and kafka-python (the replay) name a message's parts alike; they differ
only in the timestamp, seconds as a float in faust and milliseconds (-1 when absent) in
kafka-python.
"""

from __future__ import annotations

from typing import Any

from pipeline.ingest.records import RawRecord

__all__ = ["from_consumer_record", "from_faust_message"]


def _raw(message: Any, timestamp_ms: int | None) -> RawRecord:
    return RawRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=tuple((name, bytes(value or b"")) for name, value in (message.headers or ())),
        timestamp_ms=timestamp_ms,
    )


def from_faust_message(message: Any) -> RawRecord:
    """A faust `Message` (timestamp in seconds)."""
    timestamp = message.timestamp
    return _raw(message, round(timestamp * 1000) if timestamp is not None else None)


def from_consumer_record(record: Any) -> RawRecord:
    """A kafka-python `ConsumerRecord` (timestamp in milliseconds, -1 when the broker has none)."""
    timestamp = record.timestamp
    return _raw(record, timestamp if timestamp is not None and timestamp >= 0 else None)
