"""The batch path: an ordered list of steps over one `Item` per record. Synchronous, no Kafka.

The stream wiring (pipeline/worker/) hands a batch of raw records to `BatchProcessor.process` in
a worker thread and gets back what became of each. Every record ends settled (indexed, or a
stale replay, which is success) or rejected with the reason; a failure of Elasticsearch as a
whole raises `SearchUnavailable`, and one of a topic the path needs (the alerts topic, the
erasure ledger) `KafkaBackpressure` (together `BACKPRESSURE`), so the caller pauses and retries
the batch (every step is idempotent, so a retried batch gives the same result). The steps are
assembled in pipeline/flow/assemble.py; each runs over the items not rejected so far.

Time budgets (pipeline/flow/budget.py) bound the CPU steps (`interruptible`): a batch over
`batch_budget_s` raises `ProcessingTimeout` and is rerun by `process_isolated`, where a record
over `record_budget_s` is dead-lettered as `processing_timeout`. A batch therefore holds the
thread at most `batch_budget_s + len(batch) * record_budget_s` in those steps.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pipeline.errors import KafkaBackpressure, RecordError, SearchUnavailable, kafka_backpressure
from pipeline.flow.budget import Budget, ProcessingTimeout
from pipeline.flow.item import Item, Rejection
from pipeline.ingest.records import RawRecord
from pipeline.ingest.report import Report
from pipeline.ingest.validate import source_for_topic
from pipeline.ops.logging import record_context

__all__ = ["BACKPRESSURE", "BatchOutcome", "BatchProcessor", "Step"]

log = logging.getLogger(__name__)

# A service the batch needs cannot take it now, which is never the records' fault: the batch
# pauses and is retried whole, nothing is dead-lettered.
BACKPRESSURE: tuple[type[SearchUnavailable], type[KafkaBackpressure]] = (
    SearchUnavailable,
    KafkaBackpressure,
)


class Step(Protocol):
    """One step of the batch path.

    `name` labels the step's timings (`ct_pipeline_stage_duration_seconds{stage=...}`) and the
    dead letters of records that crash it or run out of time in it (`__connect.errors.stage`).
    `interruptible` steps are pure CPU work that the time budget may stop mid-way; steps that
    talk to Elasticsearch or Kafka are not (a request cut in half helps no one).
    """

    @property
    def name(self) -> str: ...

    @property
    def interruptible(self) -> bool: ...

    def run(self, items: Sequence[Item]) -> None:
        """Fill in this step's part of each open item, or reject it; raising fails the batch."""


StageTimer = Callable[[str, float], None]


@dataclass(slots=True)
class BatchOutcome:
    """What became of one batch."""

    indexed: list[Report] = field(default_factory=list)
    stale: list[Report] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    # records of erased reports, dropped: neither indexed nor dead-lettered
    erased: list[RawRecord] = field(default_factory=list)

    def add(self, item: Item) -> None:
        """Count one finished item."""
        if item.erased:
            self.erased.append(item.record)
        elif item.rejection is not None:
            self.rejected.append(item.rejection)
        elif item.report is not None and item.settled == "indexed":
            self.indexed.append(item.report)
        elif item.report is not None and item.settled == "stale":
            self.stale.append(item.report)
        else:  # every path ends in a step that settles what it does not reject
            raise RuntimeError(f"record at offset {item.record.offset} left the path unsettled")

    def merge(self, other: BatchOutcome) -> None:
        """Add another outcome's records to this one."""
        self.indexed += other.indexed
        self.stale += other.stale
        self.rejected += other.rejected
        self.erased += other.erased


def _no_timer(stage: str, seconds: float) -> None:
    """Default stage timer: record nothing."""


@dataclass
class BatchProcessor:
    """Runs `steps`, in order, over a batch."""

    steps: Sequence[Step]
    on_stage: StageTimer = _no_timer
    record_budget_s: float = 10.0
    batch_budget_s: float = 120.0
    budget: Budget = field(default_factory=Budget)
    # The step `process` is in (the dead-letter stage of a record that crashes it).
    _stage: str = field(default="", init=False, repr=False)

    def process(self, records: Sequence[RawRecord]) -> BatchOutcome:
        """Run every step over `records`; see the module docstring."""
        started = time.perf_counter()
        items = [Item(record) for record in records]
        for step in self.steps:
            open_items = [item for item in items if item.open]
            if not open_items:
                break
            self._stage = step.name
            step_started = time.perf_counter()
            if step.interruptible:
                with self.budget.interruptible():
                    step.run(open_items)
            else:
                step.run(open_items)
            self.on_stage(step.name, time.perf_counter() - step_started)
        outcome = BatchOutcome()
        for item in items:
            outcome.add(item)
        self.on_stage("batch", time.perf_counter() - started)
        return outcome

    def process_within_budget(self, records: Sequence[RawRecord]) -> BatchOutcome:
        """`process` with the batch budget: raises `ProcessingTimeout` once it is spent."""
        with self.budget.limit(self.batch_budget_s):
            return self.process(records)

    def process_isolated(self, records: Sequence[RawRecord]) -> BatchOutcome:
        """Process one record at a time, each within the record budget, dead-lettering any
        record whose processing crashes (`processing_error`) or runs out of time
        (`processing_timeout`), labelled with the step it was in.

        Used after `process` raised something other than backpressure (`BACKPRESSURE`), or
        ran out of time: one record must cost that record, never the batch or the worker.
        """
        outcome = BatchOutcome()
        for record in records:
            try:
                with self.budget.limit(self.record_budget_s):
                    outcome.merge(self.process([record]))
            except BACKPRESSURE:
                raise
            except ProcessingTimeout:
                log.warning(
                    "record over its %.1fs budget in the %s stage; dead-lettering it",
                    self.record_budget_s,
                    self._stage,
                    extra=_context(record),
                )
                error = RecordError(
                    f"processing took longer than the {self.record_budget_s:g}s record budget"
                    f" (stage {self._stage})",
                    stage=self._stage,
                    reason="processing_timeout",
                    details={"budget_s": self.record_budget_s},
                )
                outcome.rejected.append(Rejection(record, error))
            except Exception as exc:
                # a broker losing a replica or a leader is backpressure, never the record's fault
                backpressure = kafka_backpressure(exc, f"{self._stage} stage")
                if backpressure is not None:
                    raise backpressure from exc
                log.exception(
                    "record crashed the %s stage; dead-lettering it",
                    self._stage,
                    extra=_context(record),
                )
                error = RecordError(
                    f"processing failed: {type(exc).__name__}: {exc}",
                    stage=self._stage,
                    reason="processing_error",
                    details={"exception": type(exc).__name__},
                )
                outcome.rejected.append(Rejection(record, error))
        return outcome


def _context(record: RawRecord) -> dict[str, object]:
    return record_context(record, source=source_for_topic(record.topic))
