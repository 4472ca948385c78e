"""Drives batches through the processor off the event loop, with backpressure and dead letters.

The faust agents stay thin: they hand a batch to `Runtime.handle` and ack the batch's events
once it returns. `handle` returns only when every record is indexed or its dead-letter record is
acknowledged by the broker, so an offset is never committed for a record that could be lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from pipeline.backoff import backoff_delay
from pipeline.errors import KafkaBackpressure
from pipeline.flow.batch import BACKPRESSURE, BatchOutcome, BatchProcessor
from pipeline.flow.budget import ProcessingTimeout
from pipeline.flow.item import Rejection
from pipeline.ingest.records import RawRecord
from pipeline.ingest.validate import source_for_topic
from pipeline.ops import metrics
from pipeline.ops.logging import record_context

log = logging.getLogger(__name__)

SendDeadLetter = Callable[[Rejection], Awaitable[None]]


@runtime_checkable
class Closes(Protocol):
    """A step that holds a connection of its own (the watch step's alert publisher)."""

    def close(self) -> None: ...


@dataclass
class AgentState:
    """What readiness needs to know about one agent."""

    running: bool = False
    batch_started: float | None = None
    last_batch_done: float | None = None
    backpressure_since: float | None = None
    # why the batch is paused (a pipeline.errors.Unavailability code); readiness shows it
    backpressure_reason: str | None = None
    processed: int = 0

    def pause(self, reason: str) -> None:
        """Mark the agent paused by Elasticsearch or the alerts topic for `reason` (again), for
        metrics and /readyz."""
        if self.backpressure_since is None:
            self.backpressure_since = time.monotonic()
        metrics.record_backpressure(self.backpressure_reason, reason)
        self.backpressure_reason = reason

    def resume(self) -> None:
        """The batch went through: no longer paused."""
        if self.backpressure_since is not None:
            paused = time.monotonic() - self.backpressure_since
            log.info("batches go through again after %.0fs paused", paused)
        metrics.record_backpressure(self.backpressure_reason, None)
        self.backpressure_since = None
        self.backpressure_reason = None


@dataclass
class Runtime:
    """Shared by the agents of one worker process; processes one batch at a time.

    One processing thread: NER is CPU-bound and the GIL makes more threads useless; scale out
    with more worker processes (one per core), which Kafka's consumer group balances.
    """

    processor: BatchProcessor
    send_dead_letter: SendDeadLetter
    on_outcome: Callable[[Sequence[RawRecord], BatchOutcome], None] = lambda records, outcome: None
    max_backoff_s: float = 30.0
    agents: dict[str, AgentState] = field(default_factory=dict)
    _executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="stages")
    )

    def agent(self, name: str) -> AgentState:
        """The state record for agent `name`, created on first use."""
        return self.agents.setdefault(name, AgentState())

    async def handle(self, agent: str, records: Sequence[RawRecord]) -> BatchOutcome:
        """Process `records` until done; pauses (does not return) while Elasticsearch is down."""
        state = self.agent(agent)
        state.batch_started = time.monotonic()
        outcome = await self._process_with_backpressure(state, records)
        for rejected in outcome.rejected:
            log.warning(
                "dead-lettering record (%s at %s): %s",
                rejected.error.reason,
                rejected.error.stage,
                rejected.error.message,
                extra=record_context(
                    rejected.record, source=source_for_topic(rejected.record.topic)
                ),
            )
            await self.send_dead_letter(rejected)
        self.on_outcome(records, outcome)
        state.batch_started = None
        state.last_batch_done = time.monotonic()
        state.processed += len(records)
        return outcome

    async def in_batch_thread(self, fn: Callable[..., object], *args: object) -> object:
        """Run `fn(*args)` on the processing thread, between batches."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _process_with_backpressure(
        self, state: AgentState, records: Sequence[RawRecord]
    ) -> BatchOutcome:
        loop = asyncio.get_running_loop()
        attempt = 0
        isolate = False
        while True:
            run = (
                self.processor.process_isolated if isolate else self.processor.process_within_budget
            )
            try:
                outcome = await loop.run_in_executor(self._executor, run, records)
            except BACKPRESSURE as exc:
                # About the cluster or the broker, never the records: nothing is dead-lettered
                # or acked; the batch waits (no new records are pulled) and is retried until it
                # goes through.
                attempt += 1
                delay = backoff_delay(
                    attempt, base=exc.retry_after, cap=self.max_backoff_s, floor=0.5
                )
                state.pause(exc.reason)
                log.warning(
                    "%s cannot take this batch (%s), pausing it for %.1fs (attempt %d): %s",
                    exc.stream if isinstance(exc, KafkaBackpressure) else "Elasticsearch",
                    exc.reason,
                    delay,
                    attempt,
                    exc,
                    extra={"backpressure_reason": exc.reason.value, "attempt": attempt},
                )
                await asyncio.sleep(delay)
                continue
            except ProcessingTimeout:
                # only the batch is budgeted here: process_isolated turns a record's own
                # timeout into its dead letter
                log.warning(
                    "batch of %d over its %.1fs budget; retrying record by record",
                    len(records),
                    self.processor.batch_budget_s,
                )
                isolate = True
                continue
            except Exception:
                if isolate:
                    raise
                log.exception("batch failed unexpectedly; retrying record by record")
                isolate = True
                continue
            state.resume()
            return outcome

    def close(self) -> None:
        """Stop the processing thread and its budget watchdog, and close what steps hold open
        (the alert publisher's connection)."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.processor.budget.close()
        for step in self.processor.steps:
            if isinstance(step, Closes):
                step.close()
