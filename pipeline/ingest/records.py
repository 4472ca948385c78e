"""The raw Kafka record as the pipeline receives it, before any decoding."""

from __future__ import annotations

from dataclasses import dataclass, field


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
