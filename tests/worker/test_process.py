"""The batch processor and runtime as plain code: every record ends indexed, stale or
dead-lettered with a reason; an outage pauses and retries; one bad record costs only itself.

The stages are small in-memory stand-ins here (the stream path against the real broker and
Elasticsearch is tests/worker/test_stream_path.py)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.mentions import Enrichment
from pipeline.errors import SinkBackpressure
from pipeline.flow.assemble import steps
from pipeline.flow.batch import BatchProcessor
from pipeline.flow.item import Rejection
from pipeline.index.sink import IndexAction, ItemOutcome
from pipeline.ingest.records import RawRecord
from pipeline.ingest.report import Report
from pipeline.worker.runtime import Runtime

TOPIC = "intake.public-reports"


def raw(
    offset: int, record_id: str, text: str = "A van was seen", value: bytes | None = None
) -> RawRecord:
    body = {"id": record_id, "received_at": "2026-11-20T10:00:00Z", "description": text}
    return RawRecord(
        topic=TOPIC,
        partition=0,
        offset=offset,
        key=record_id.encode(),
        value=json.dumps(body).encode() if value is None else value,
        timestamp_ms=1_790_000_000_000 + offset,
    )


# How long the slow stage stand-in would hold the thread if nothing interrupted it.
SLOW_S = 20.0


class Enricher:
    def enrich(self, reports: Sequence[Report]) -> list[Enrichment]:
        for report in reports:
            if "CRASH" in report.text:
                raise RuntimeError("enricher bug")
            if "SLOW" in report.text:  # pure-Python CPU work, like a super-linear extractor
                deadline = time.monotonic() + SLOW_S
                while time.monotonic() < deadline:
                    pass
        return [Enrichment() for _ in reports]


class Deduplicator:
    def assign(
        self, reports: Sequence[Report], enrichments: Sequence[Enrichment]
    ) -> list[ClusterAssignment]:
        if any("DEDUP-BUG" in r.text for r in reports):
            raise KeyError("dedup bug")
        return [ClusterAssignment(cluster_id=r.source_id, duplicate=False) for r in reports]


@dataclass
class Sink:
    verdicts: dict[str, str] = field(default_factory=dict)
    outages: int = 0
    written: list[str] = field(default_factory=list)

    def write(self, actions: Sequence[IndexAction], *, index: str) -> list[ItemOutcome]:
        if self.outages:
            self.outages -= 1
            raise SinkBackpressure("down", retry_after=0.001)
        outcomes = []
        for action in actions:
            source_id = action.document["source_id"]
            status = self.verdicts.get(source_id, "indexed")
            error = {"type": "mapper_parsing_exception"} if status == "rejected" else None
            outcomes.append(ItemOutcome(action, status, 400 if error else 201, error))  # type: ignore[arg-type]
            if status == "indexed":
                self.written.append(source_id)
        return outcomes


def processor(sink: Sink, budget_s: float = 10.0) -> BatchProcessor:
    return BatchProcessor(
        steps(enricher=Enricher(), deduplicator=Deduplicator(), sink=sink, index="r"),
        record_budget_s=budget_s,
        batch_budget_s=budget_s,
    )


def test_every_record_ends_indexed_stale_or_dead_lettered() -> None:
    sink = Sink(verdicts={"b": "stale", "c": "rejected"})
    records = [raw(0, "a"), raw(1, "b"), raw(2, "c"), raw(3, "d", value=b"{oops")]
    outcome = processor(sink).process(records)
    assert [r.source_id for r in outcome.indexed] == ["a"]
    assert [r.source_id for r in outcome.stale] == ["b"]
    reasons = {d.record.offset: (d.error.stage, d.error.reason) for d in outcome.rejected}
    assert reasons == {2: ("index", "index_rejected"), 3: ("ingest", "not_json")}


def test_isolated_processing_dead_letters_only_the_record_that_crashes() -> None:
    sink = Sink()
    records = [raw(0, "a"), raw(1, "b", text="CRASH here"), raw(2, "c")]
    outcome = processor(sink).process_isolated(records)
    assert [r.source_id for r in outcome.indexed] == ["a", "c"]
    [dead] = outcome.rejected
    assert (dead.record.offset, dead.error.reason) == (1, "processing_error")


def run_runtime(
    sink: Sink, records: list[RawRecord], budget_s: float = 10.0
) -> tuple[list[Rejection], Runtime]:
    sent: list[Rejection] = []

    async def send(dead: Rejection) -> None:
        sent.append(dead)

    runtime = Runtime(
        processor=processor(sink, budget_s), send_dead_letter=send, max_backoff_s=0.01
    )
    try:
        asyncio.run(runtime.handle("public-reports", records))
    finally:
        runtime.close()
    return sent, runtime


def test_runtime_pauses_through_an_outage_then_finishes_the_batch() -> None:
    sink = Sink(outages=3)
    sent, runtime = run_runtime(sink, [raw(0, "a"), raw(1, "b")])
    assert sink.outages == 0 and sink.written == ["a", "b"]
    assert sent == []
    state = runtime.agent("public-reports")
    assert state.processed == 2 and state.backpressure_since is None


def test_runtime_falls_back_to_record_by_record_and_sends_the_dead_letter() -> None:
    sink = Sink()
    sent, _ = run_runtime(sink, [raw(0, "a"), raw(1, "b", text="CRASH"), raw(2, "c")])
    assert sink.written == ["a", "c"]
    assert [(d.record.offset, d.error.reason) for d in sent] == [(1, "processing_error")]


def test_a_crash_is_dead_lettered_with_the_stage_that_crashed() -> None:
    outcome = processor(Sink()).process_isolated([raw(0, "a", text="DEDUP-BUG"), raw(1, "b")])
    [dead] = outcome.rejected
    assert (dead.record.offset, dead.error.stage, dead.error.reason) == (
        0,
        "dedup",
        "processing_error",
    )
    assert [r.source_id for r in outcome.indexed] == ["b"]


def test_a_record_over_its_budget_is_dead_lettered_and_the_batch_goes_on() -> None:
    sink = Sink()
    records = [raw(0, "a"), raw(1, "b", text="SLOW report"), raw(2, "c")]
    started = time.monotonic()
    sent, runtime = run_runtime(sink, records, budget_s=0.3)
    elapsed = time.monotonic() - started
    assert sink.written == ["a", "c"]
    [dead] = sent
    assert (dead.record.offset, dead.error.stage, dead.error.reason) == (
        1,
        "enrich",
        "processing_timeout",
    )
    # once for the batch, once alone: far less than the stand-in would hold the thread
    assert elapsed < SLOW_S / 4
    assert runtime.agent("public-reports").processed == 3
