"""A small producer for upstream systems: validates each record, keys it by `id`, sends it once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Literal

import orjson
from kafka import KafkaProducer

from pipeline.clients import kafka_config, new_kafka_client
from pipeline.errors import ValidationFailed, map_kafka_errors
from pipeline.ingest.sources import TOPIC_BY_SOURCE, Source
from pipeline.ingest.validate import validate_value
from pipeline.settings import Settings

__all__ = ["IntakeProducer"]

Compression = Literal["none", "gzip", "snappy", "lz4", "zstd"]
Callback = Callable[[Exception | None], None]


class IntakeProducer:
    """Publish intake records with the pipeline's own validation applied first.

    Idempotent (`enable_idempotence=True`, `acks="all"`): a retried send never writes a
    record twice. `send` raises `ValidationFailed` for a record the pipeline would
    dead-letter, so upstream learns at once instead of from the dead-letter topic.

        with IntakeProducer(settings) as producer:
            producer.send(Source.HOTLINE_CALL, {"id": "c1", "received_at": ..., "summary": ...})
    """

    def __init__(
        self, settings: Settings, *, compression: Compression = "none", **overrides: Any
    ) -> None:
        self.prefix = settings.topic_prefix
        options = kafka_config(
            settings,
            enable_idempotence=True,
            acks="all",
            compression_type=None if compression == "none" else compression,
            linger_ms=20,
            **overrides,
        )
        with map_kafka_errors("connecting the intake producer"):
            self._producer = new_kafka_client(KafkaProducer, **options)

    def topic(self, source: Source) -> str:
        """The intake topic for `source`, with the deployment prefix."""
        return f"{self.prefix}{TOPIC_BY_SOURCE[source]}"

    def send(
        self,
        source: Source,
        record: Mapping[str, Any] | bytes,
        *,
        topic: str | None = None,
        on_delivery: Callback | None = None,
    ) -> str:
        """Validate and send one record (a mapping or its JSON bytes); returns its `id`.

        Bytes are sent exactly as given, to `topic` or else the source's intake topic.
        `on_delivery(None)` or `on_delivery(error)` is
        called from the producer's thread once the broker has answered.
        """
        value = record if isinstance(record, bytes) else _dumps(record)
        model, _ = validate_value(source, value)
        self.send_raw(
            topic or self.topic(source), model.id.encode("utf-8"), value, on_delivery=on_delivery
        )
        return model.id

    def send_raw(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        *,
        headers: list[tuple[str, bytes]] | None = None,
        on_delivery: Callback | None = None,
    ) -> None:
        """Send bytes without validation (replay, and the demo's deliberately bad records)."""
        with map_kafka_errors(f"sending to {topic}"):
            future = self._producer.send(topic, key=key, value=value, headers=headers or [])
        if on_delivery is not None:
            callback = on_delivery
            future.add_callback(lambda _metadata: callback(None))
            future.add_errback(callback)

    def flush(self, timeout_s: float | None = None) -> None:
        """Block until every record sent so far is acknowledged or has failed."""
        with map_kafka_errors("flushing the intake producer"):
            self._producer.flush(timeout=timeout_s)

    def close(self) -> None:
        """Flush and close the connection."""
        with map_kafka_errors("closing the intake producer"):
            self._producer.close()

    def __enter__(self) -> IntakeProducer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _dumps(record: Mapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(dict(record))
    except TypeError as exc:
        # e.g. a lone surrogate, a datetime without an offset, a set: not sendable as JSON
        raise ValidationFailed(
            f"record cannot be encoded as JSON: {exc}", reason="not_json"
        ) from None
