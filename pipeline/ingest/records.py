"""The raw Kafka record as the pipeline receives it, before any decoding."""

from __future__ import annotations

from dataclasses import dataclass, field

# The Kafka timestamp (ms) of a record's first publication to its intake topic: added to its
# dead letter and carried by every replay of it, so a replay keeps the original's version.
FIRST_TIMESTAMP = "pipeline.origin.timestamp"


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One consumed intake record: untouched bytes plus where it came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = field(default=())
    timestamp_ms: int | None = None

    @property
    def origin(self) -> str:
        """`topic/partition@offset`, for logs and error messages."""
        return f"{self.topic}/{self.partition}@{self.offset}"

    @property
    def first_timestamp_ms(self) -> int | None:
        """The `pipeline.origin.timestamp` header a replay carries; None if absent or garbled."""
        value = next((v for k, v in self.headers if k == FIRST_TIMESTAMP), None)
        # ASCII digits only, at most 18 of them: always within Elasticsearch's long versions
        if value is None or not value.isdigit() or len(value) > 18:
            return None
        return int(value)
