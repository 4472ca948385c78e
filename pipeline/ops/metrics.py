"""The pipeline's Prometheus metrics: one registry, named metrics, and recording functions.

Workers and the search API record through the functions below rather than touching the
metric objects, so label values stay within the closed sets (enums) and series counts stay
bounded. `render()` gives the exposition text and content type for a /metrics handler.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import suppress
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from pipeline.errors import Unavailability
from pipeline.ingest.sources import Source

if TYPE_CHECKING:
    from pipeline.ops.history import LagRow

__all__ = [
    "REGISTRY",
    "Outcome",
    "declare_stages",
    "observe_api_request",
    "observe_searchable",
    "observe_stage",
    "record_backpressure",
    "record_bulk_retry",
    "record_dead_letter",
    "record_lag",
    "record_outcome",
    "render",
]


class Outcome(StrEnum):
    """What became of one intake record."""

    INDEXED = "indexed"
    DEAD_LETTERED = "dead_lettered"
    STALE = "stale"
    ERASED = "erased"  # dropped: its report was erased (README, "Erasure")


REGISTRY = CollectorRegistry(auto_describe=True)

# Stage work ranges from microseconds (validation) to seconds (a 200-record NER batch).
_STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# Publish-to-searchable spans a batch timeout, a refresh interval and any backlog.
_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600)
_API_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

LAG_RECORDS = Gauge(
    "ct_pipeline_consumer_lag_records",
    "Records written to a partition but not yet committed by the consumer group.",
    ["group", "topic", "partition"],
    registry=REGISTRY,
)
LAG_SECONDS = Gauge(
    "ct_pipeline_consumer_lag_seconds",
    "Age of the oldest record the consumer group has not processed yet (0 without lag).",
    ["group", "topic", "partition"],
    registry=REGISTRY,
)
RECORDS = Counter(
    "ct_pipeline_records_total",
    "Intake records processed, by source and outcome (indexed, dead_lettered, stale, erased).",
    ["source", "outcome"],
    registry=REGISTRY,
)
DLQ_RECORDS = Counter(
    "ct_pipeline_dlq_records_total",
    "Records written to the dead-letter topic, by source and reason.",
    ["source", "reason"],
    registry=REGISTRY,
)
# `stage` labels taken by observe_stage: `batch` and the steps of the assembled batch path
_STAGES: set[str] = {"batch"}
STAGE_SECONDS = Histogram(
    "ct_pipeline_stage_duration_seconds",
    "Time spent in one step of the batch path per call, by step name (batch = one whole batch).",
    ["stage"],
    buckets=_STAGE_BUCKETS,
    registry=REGISTRY,
)
BULK_RETRIES = Counter(
    "ct_pipeline_bulk_retries_total",
    "Elasticsearch bulk requests retried after backpressure or a transient error.",
    registry=REGISTRY,
)
BACKPRESSURE = Gauge(
    "ct_pipeline_backpressure",
    "Agents pausing a batch because Elasticsearch cannot take it, by reason (0 when flowing).",
    ["reason"],
    registry=REGISTRY,
)
BACKPRESSURE_RETRIES = Counter(
    "ct_pipeline_backpressure_retries_total",
    "Batches paused and retried because Elasticsearch could not take them, by reason.",
    ["reason"],
    registry=REGISTRY,
)
# Every reason is exposed from the start, so `ct_pipeline_backpressure > 0` alerts need no
# absent() and a dashboard shows the whole closed set.
for _reason in Unavailability:
    BACKPRESSURE.labels(reason=_reason.value).set(0)
    BACKPRESSURE_RETRIES.labels(reason=_reason.value)
RECEIVED_TO_SEARCHABLE = Histogram(
    "ct_pipeline_received_to_searchable_seconds",
    "From a record's received_at (upstream intake time) until it is searchable.",
    ["source"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
PUBLISHED_TO_SEARCHABLE = Histogram(
    "ct_pipeline_published_to_searchable_seconds",
    "From a record's Kafka timestamp (publish time) until it is searchable.",
    ["source"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
API_REQUESTS = Counter(
    "ct_pipeline_api_requests_total",
    "Search API requests, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
API_REQUEST_SECONDS = Histogram(
    "ct_pipeline_api_request_duration_seconds",
    "Search API request duration, by method and route template.",
    ["method", "route"],
    buckets=_API_BUCKETS,
    registry=REGISTRY,
)


def record_outcome(source: Source, outcome: Outcome, count: int = 1) -> None:
    """Count records of one source that ended as `outcome`."""
    RECORDS.labels(source=Source(source).value, outcome=Outcome(outcome).value).inc(count)


def record_dead_letter(source: Source | None, reason: str) -> None:
    """Count one dead-lettered record; `reason` is the short RecordError.reason code.

    Also counts it under `ct_pipeline_records_total{outcome="dead_lettered"}` when the
    source is known (a record on an unknown topic has no source).
    """
    label = Source(source).value if source is not None else "unknown"
    DLQ_RECORDS.labels(source=label, reason=reason).inc()
    if source is not None:
        record_outcome(source, Outcome.DEAD_LETTERED)


def observe_stage(stage: str, seconds: float) -> None:
    """Record one call of step `stage` that took `seconds` (BatchProcessor's stage timer).

    The label set stays closed: only `batch` and the step names the assembled path declared
    (`declare_stages`) are taken; anything else raises ValueError.
    """
    if stage not in _STAGES:
        raise ValueError(f"unknown stage {stage!r}; declared: {', '.join(sorted(_STAGES))}")
    STAGE_SECONDS.labels(stage=stage).observe(seconds)


def declare_stages(names: Iterable[str]) -> None:
    """Allow `names` (the batch path's step names) as `stage` labels."""
    _STAGES.update(names)


def record_bulk_retry(count: int = 1) -> None:
    """Count retried bulk requests."""
    BULK_RETRIES.inc(count)


def record_backpressure(previous: str | None, current: str | None) -> None:
    """Move one agent's pause from reason `previous` to `current` (None: not paused).

    Every call with a `current` reason counts one paused retry of the batch.
    """
    if previous is not None:
        BACKPRESSURE.labels(reason=Unavailability(previous).value).dec()
    if current is not None:
        reason = Unavailability(current).value
        BACKPRESSURE.labels(reason=reason).inc()
        BACKPRESSURE_RETRIES.labels(reason=reason).inc()


def observe_searchable(
    source: Source,
    *,
    received_at: datetime | None,
    published_ms: int | None,
    searchable_at: float | None = None,
) -> None:
    """Record both end-to-end latencies of one record that just became searchable.

    `searchable_at` is epoch seconds (now by default); `published_ms` is the Kafka record
    timestamp. Negative spans (clock skew upstream) are recorded as 0.
    """
    now = time.time() if searchable_at is None else searchable_at
    label = Source(source).value
    if received_at is not None:
        RECEIVED_TO_SEARCHABLE.labels(source=label).observe(max(now - received_at.timestamp(), 0))
    if published_ms is not None:
        PUBLISHED_TO_SEARCHABLE.labels(source=label).observe(max(now - published_ms / 1000, 0))


def observe_api_request(method: str, route: str, status: int, seconds: float) -> None:
    """Record one API request; `route` must be the route template, never the raw path."""
    API_REQUESTS.labels(method=method.upper(), route=route, status=str(status)).inc()
    API_REQUEST_SECONDS.labels(method=method.upper(), route=route).observe(seconds)


_lag_series: set[tuple[str, str, str]] = set()


def record_lag(rows: Iterable[LagRow]) -> None:
    """Replace the lag gauges with these rows; series of partitions no longer seen go away."""
    fresh: set[tuple[str, str, str]] = set()
    for row in rows:
        labels = (row.group, row.topic, str(row.partition))
        fresh.add(labels)
        if row.lag is not None:
            LAG_RECORDS.labels(*labels).set(row.lag)
        if row.lag_seconds is not None:
            LAG_SECONDS.labels(*labels).set(row.lag_seconds)
    for labels in _lag_series - fresh:
        for gauge in (LAG_RECORDS, LAG_SECONDS):
            with suppress(KeyError):
                gauge.remove(*labels)
    _lag_series.clear()
    _lag_series.update(fresh)


def render() -> tuple[bytes, str]:
    """The exposition text of every pipeline metric and its HTTP content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
