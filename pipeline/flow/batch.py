"""One batch through the stages: validate, enrich, deduplicate, index. Plain, synchronous, no Kafka.

The stream wiring (pipeline/worker/app.py) hands a batch of raw records to `BatchProcessor.process`
in a worker thread and gets back which records must be dead-lettered. Every record of the batch
ends either indexed (or a stale replay, which is success) or in `dead_letters` with the reason;
a failure of Elasticsearch as a whole raises `SinkBackpressure` so the caller pauses and retries
the batch (every stage is idempotent, so a retried batch gives the same result).

Time budgets (pipeline/flow/budget.py) bound the CPU stages, validate and enrich: a batch over
`batch_budget_s` raises `ProcessingTimeout` and is rerun by `process_isolated`, where a record
over `record_budget_s` is dead-lettered as `processing_timeout`. A batch therefore holds the
thread at most `batch_budget_s + len(batch) * record_budget_s` in those stages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.mentions import Enrichment
from pipeline.errors import RecordError, SearchUnavailable
from pipeline.flow.budget import Budget, ProcessingTimeout
from pipeline.index.document import build_document, doc_id, doc_version
from pipeline.index.sink import IndexAction, ItemOutcome
from pipeline.ingest.records import RawRecord
from pipeline.ingest.report import Report
from pipeline.ingest.validate import parse_record, source_for_topic
from pipeline.ops.logging import record_context

log = logging.getLogger(__name__)


class Enriches(Protocol):
    """What the processor needs from the enrich stage (pipeline.enrich.extract.Enricher)."""

    def enrich(self, reports: Sequence[Report]) -> list[Enrichment]: ...


class Deduplicates(Protocol):
    """What the processor needs from dedup (pipeline.enrich.dedup.Deduplicator)."""

    def assign(
        self, reports: Sequence[Report], enrichments: Sequence[Enrichment]
    ) -> list[ClusterAssignment]: ...


class Sinks(Protocol):
    """What the processor needs from the index sink (pipeline.index.sink.BulkSink)."""

    def write(self, actions: Sequence[IndexAction], *, index: str) -> list[ItemOutcome]: ...


StageTimer = Callable[[str, float], None]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that must go to the dead-letter topic, and why."""

    record: RawRecord
    error: RecordError


@dataclass(slots=True)
class BatchOutcome:
    """What became of one batch."""

    indexed: list[Report] = field(default_factory=list)
    stale: list[Report] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)


def _no_timer(stage: str, seconds: float) -> None:
    """Default stage timer: record nothing."""


@dataclass
class BatchProcessor:
    """Runs the stages over a batch; `index` is the alias or index name written to."""

    enricher: Enriches
    deduplicator: Deduplicates
    sink: Sinks
    index: str
    on_stage: StageTimer = _no_timer
    record_budget_s: float = 10.0
    batch_budget_s: float = 120.0
    budget: Budget = field(default_factory=Budget)
    # The step `process` is in (the dead-letter stage of a record that crashes it).
    _stage: str = field(default="ingest", init=False, repr=False)

    def process(self, records: Sequence[RawRecord]) -> BatchOutcome:
        """Validate, enrich, deduplicate and index `records`; see the module docstring."""
        outcome = BatchOutcome()
        started = time.perf_counter()
        valid: list[tuple[RawRecord, Report]] = []
        self._stage = "ingest"
        with self.budget.interruptible():
            for record in records:
                try:
                    valid.append((record, parse_record(record)))
                except RecordError as exc:
                    outcome.dead_letters.append(DeadLetter(record, exc))
        self._timed("validate", started)
        if valid:
            self._enrich_and_index(valid, outcome)
        self._timed("batch", started)
        return outcome

    def _enrich_and_index(
        self, valid: list[tuple[RawRecord, Report]], outcome: BatchOutcome
    ) -> None:
        reports = [report for _, report in valid]
        started = time.perf_counter()
        self._stage = "enrich"
        with self.budget.interruptible():
            enrichments = self.enricher.enrich(reports)
        self._timed("enrich", started)

        started = time.perf_counter()
        self._stage = "dedup"
        clusters = self.deduplicator.assign(reports, enrichments)
        self._timed("dedup", started)

        ingested_at = datetime.now(UTC)
        actions = [
            IndexAction(
                doc_id=doc_id(report.source, report.source_id),
                version=doc_version(report),
                document=build_document(report, enrichment, cluster, ingested_at=ingested_at),
                ref=(record, report),
            )
            for (record, report), enrichment, cluster in zip(
                valid, enrichments, clusters, strict=True
            )
        ]
        started = time.perf_counter()
        self._stage = "index"
        results = self.sink.write(actions, index=self.index)
        self._timed("index", started)
        for result in results:
            record, report = result.action.ref
            if result.status == "indexed":
                outcome.indexed.append(report)
            elif result.status == "stale":
                outcome.stale.append(report)
            else:
                error = RecordError(
                    f"Elasticsearch rejected the document: {result.error}",
                    stage="index",
                    reason="index_rejected",
                    details={"error": result.error},
                )
                outcome.dead_letters.append(DeadLetter(record, error))

    def process_within_budget(self, records: Sequence[RawRecord]) -> BatchOutcome:
        """`process` with the batch budget: raises `ProcessingTimeout` once it is spent."""
        with self.budget.limit(self.batch_budget_s):
            return self.process(records)

    def process_isolated(self, records: Sequence[RawRecord]) -> BatchOutcome:
        """Process one record at a time, each within the record budget, dead-lettering any
        record whose processing crashes (`processing_error`) or runs out of time
        (`processing_timeout`), labelled with the stage it was in.

        Used after `process` raised something other than an Elasticsearch outage, or ran
        out of time: one record must cost that record, never the batch or the worker.
        """
        outcome = BatchOutcome()
        for record in records:
            context = record_context(record, source=source_for_topic(record.topic))
            try:
                with self.budget.limit(self.record_budget_s):
                    single = self.process([record])
            except SearchUnavailable:
                raise
            except ProcessingTimeout:
                log.warning(
                    "record over its %.1fs budget in the %s stage; dead-lettering it",
                    self.record_budget_s,
                    self._stage,
                    extra=context,
                )
                error = RecordError(
                    f"processing took longer than the {self.record_budget_s:g}s record budget"
                    f" (stage {self._stage})",
                    stage=self._stage,
                    reason="processing_timeout",
                    details={"budget_s": self.record_budget_s},
                )
                outcome.dead_letters.append(DeadLetter(record, error))
                continue
            except Exception as exc:
                log.exception(
                    "record crashed the %s stage; dead-lettering it", self._stage, extra=context
                )
                error = RecordError(
                    f"processing failed: {type(exc).__name__}: {exc}",
                    stage=self._stage,
                    reason="processing_error",
                    details={"exception": type(exc).__name__},
                )
                outcome.dead_letters.append(DeadLetter(record, error))
                continue
            outcome.indexed += single.indexed
            outcome.stale += single.stale
            outcome.dead_letters += single.dead_letters
        return outcome

    def _timed(self, stage: str, started: float) -> None:
        self.on_stage(stage, time.perf_counter() - started)
