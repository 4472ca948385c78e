"""Drives batches through the processor off the event loop, with backpressure and dead letters.

The faust agents stay thin: they hand a batch to `Runtime.handle` and ack the batch's events
once it returns. `handle` returns only when every record is indexed or its dead-letter record is
acknowledged by the broker, so an offset is never committed for a record that could be lost.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pipeline.errors import SearchUnavailable
from pipeline.ingest.records import RawRecord
from pipeline.ingest.validate import source_for_topic
from pipeline.ops.logging import record_context
from pipeline.worker.process import BatchOutcome, BatchProcessor, DeadLetter

log = logging.getLogger(__name__)

SendDeadLetter = Callable[[DeadLetter], Awaitable[None]]


@dataclass
class AgentState:
    """What readiness needs to know about one agent."""

    running: bool = False
    batch_started: float | None = None
    last_batch_done: float | None = None
    backpressure_since: float | None = None
    processed: int = 0


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
        for dead in outcome.dead_letters:
            log.warning(
                "dead-lettering record (%s at %s): %s",
                dead.error.reason,
                dead.error.stage,
                dead.error.message,
                extra=record_context(dead.record, source=source_for_topic(dead.record.topic)),
            )
            await self.send_dead_letter(dead)
        self.on_outcome(records, outcome)
        state.batch_started = None
        state.last_batch_done = time.monotonic()
        state.processed += len(records)
        return outcome

    async def _process_with_backpressure(
        self, state: AgentState, records: Sequence[RawRecord]
    ) -> BatchOutcome:
        loop = asyncio.get_running_loop()
        attempt = 0
        isolate = False
        while True:
            run = self.processor.process_isolated if isolate else self.processor.process
            try:
                outcome = await loop.run_in_executor(self._executor, run, records)
            except SearchUnavailable as exc:
                attempt += 1
                retry_after = getattr(exc, "retry_after", 1.0)
                delay = min(self.max_backoff_s, retry_after * 2 ** min(attempt, 6))
                delay = random.uniform(delay / 2, delay)
                if state.backpressure_since is None:
                    state.backpressure_since = time.monotonic()
                log.warning(
                    "Elasticsearch unavailable, pausing this batch for %.1fs (attempt %d): %s",
                    delay,
                    attempt,
                    exc,
                )
                await asyncio.sleep(delay)
                continue
            except Exception:
                if isolate:
                    raise
                log.exception("batch failed unexpectedly; retrying record by record")
                isolate = True
                continue
            state.backpressure_since = None
            return outcome

    def close(self) -> None:
        """Stop the processing thread."""
        self._executor.shutdown(wait=True, cancel_futures=True)
