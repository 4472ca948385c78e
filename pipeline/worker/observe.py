"""What a worker shows operators: metrics per batch, lag gauges, and its readiness checks."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import partial

from pipeline.flow.batch import BatchOutcome
from pipeline.ingest.records import RawRecord
from pipeline.ingest.validate import source_for_topic
from pipeline.ops import metrics
from pipeline.ops.health import (
    CheckResult,
    Health,
    elasticsearch_check,
    kafka_check,
    stuck_partitions_check,
)
from pipeline.ops.history import LagTracker
from pipeline.settings import Settings
from pipeline.worker.runtime import AgentState

# A batch that takes longer than this while Elasticsearch is answering is a hung worker.
STUCK_BATCH_S = 300.0


def observe_outcome(records: Sequence[RawRecord], outcome: BatchOutcome) -> None:
    """Count what became of a batch; indexed records count as searchable now."""
    now = time.time()
    for report in outcome.indexed:
        metrics.record_outcome(report.source, metrics.Outcome.INDEXED)
        metrics.observe_searchable(
            report.source,
            received_at=report.received_at,
            published_ms=report.origin.timestamp_ms,
            searchable_at=now,
        )
    for report in outcome.stale:
        metrics.record_outcome(report.source, metrics.Outcome.STALE)
    for record in outcome.erased:
        source = source_for_topic(record.topic)
        if source is not None:
            metrics.record_outcome(source, metrics.Outcome.ERASED)
    for rejected in outcome.rejected:
        metrics.record_dead_letter(source_for_topic(rejected.record.topic), rejected.error.reason)


def agent_check(name: str, state: AgentState) -> CheckResult:
    """Ready while the agent's loop runs, is not paused by Elasticsearch, and no batch hangs.

    A pause is not ready even when the cluster is green: a write block or a rotated key
    leaves health green while no record gets through.
    """
    if not state.running:
        return CheckResult(False, f"agent {name} is not running")
    if state.backpressure_since is not None:
        paused = time.monotonic() - state.backpressure_since
        reason = state.backpressure_reason or "unknown"
        data = {"backpressure": reason, "paused_seconds": round(paused, 1)}
        detail = f"agent {name} paused {paused:.0f}s: Elasticsearch {reason}"
        return CheckResult(False, detail, data)
    if state.batch_started is not None and state.backpressure_since is None:
        busy = time.monotonic() - state.batch_started
        if busy > STUCK_BATCH_S:
            return CheckResult(False, f"agent {name} stuck in one batch for {busy:.0f}s")
    return CheckResult(True, f"agent {name} running", {"processed": state.processed})


class WorkerObserver:
    """Builds the worker's health registry and keeps its lag view fresh."""

    def __init__(self, settings: Settings, agents: Mapping[str, AgentState]) -> None:
        self.settings = settings
        self.tracker = LagTracker(window=settings.lag_window_samples)
        self.health = Health()
        for name, state in agents.items():
            self.health.register(f"agent:{name}", partial(agent_check, name, state))
        self.health.register("elasticsearch", elasticsearch_check(settings))
        self.health.register("kafka", kafka_check(settings))
        self.health.register("partitions", stuck_partitions_check(self.tracker.alarming))

    def refresh_lag(self) -> None:
        """Sample the group's lag once: update the gauges and the stuck-partition check."""
        from pipeline.ops.lag import LagProbe

        with LagProbe(self.settings) as probe:
            self.tracker.add(probe.snapshot([self.settings.consumer_group]))
        metrics.record_lag(self.tracker.rows())
