"""The project's error types: one root, translated once at the edge from library errors.

    PipelineError
    ├── ConfigError                  settings that cannot work (bad URL, missing key)
    ├── StackError                   the local Kafka/Elasticsearch stack failed to start or stop
    ├── RecordError                  one intake record cannot be processed: a dead-letter record
    │   └── ValidationFailed         JSON, schema, size or encoding problem (carries field errors)
    ├── KafkaUnavailable             the broker cannot be reached or refused an operation
    ├── SearchUnavailable            Elasticsearch cannot be reached or answered 5xx
    │   └── SinkBackpressure         Elasticsearch said 429 or is down: pause, retry later
    └── AccessDenied                 an API caller lacks the role for what was asked

Library exceptions (kafka-python, aiokafka, elasticsearch-py) are re-raised as these
types `from exc` by `map_kafka_errors()` / `map_es_errors()` so callers handle one tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class PipelineError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigError(PipelineError):
    """A setting is missing or cannot work."""


class StackError(PipelineError):
    """The local Kafka/Elasticsearch stack failed; the message names the log file."""


class RecordError(PipelineError):
    """One intake record cannot be processed and must be dead-lettered.

    `stage` names the pipeline stage that failed (`ingest`, `enrich`, `index`).
    `details` is JSON-serialisable context, e.g. per-field validation errors.
    """

    def __init__(
        self, message: str, *, stage: str = "ingest", reason: str = "invalid", details: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.stage = stage
        self.reason = reason
        self.details = details


class ValidationFailed(RecordError):
    """The record is not valid JSON, breaks the schema, a size limit or an encoding rule."""


class KafkaUnavailable(PipelineError):
    """The Kafka broker cannot be reached or refused an operation."""


class SearchUnavailable(PipelineError):
    """Elasticsearch cannot be reached or answered with a server error."""


class SinkBackpressure(SearchUnavailable):
    """Elasticsearch cannot take writes now; pause consumption and retry after `retry_after` s."""

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AccessDenied(PipelineError):
    """The caller's role does not allow the request."""


@contextmanager
def map_kafka_errors(action: str) -> Iterator[None]:
    """Re-raise kafka-python and aiokafka errors as `KafkaUnavailable`."""
    import aiokafka.errors
    import kafka.errors

    try:
        yield
    except (kafka.errors.KafkaError, aiokafka.errors.KafkaError) as exc:
        raise KafkaUnavailable(f"{action}: {type(exc).__name__}: {exc}") from exc


@contextmanager
def map_es_errors(action: str) -> Iterator[None]:
    """Re-raise elasticsearch-py transport and server errors as our own types."""
    import elastic_transport
    import elasticsearch

    try:
        yield
    except elasticsearch.ApiError as exc:
        if exc.meta.status == 429:
            raise SinkBackpressure(f"{action}: Elasticsearch is overloaded (429)") from exc
        if exc.meta.status >= 500:
            raise SearchUnavailable(f"{action}: Elasticsearch error {exc.meta.status}") from exc
        raise
    except (elastic_transport.TransportError, elasticsearch.ConnectionError) as exc:
        raise SinkBackpressure(f"{action}: Elasticsearch unreachable: {exc}") from exc
