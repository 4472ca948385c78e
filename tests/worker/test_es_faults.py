"""Elasticsearch faults about the cluster, not the record (issue 19): a write block on the dedup
state or on the reports index pauses the stream (readiness red, the reason logged and in the
metrics) and never drains it into the dead-letter topic; once the block is lifted every record
is indexed exactly once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence

import httpx
import pytest
from elasticsearch import Elasticsearch

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.mentions import Enrichment
from pipeline.errors import SearchRefused, Unavailability
from pipeline.flow.assemble import steps
from pipeline.flow.batch import BatchProcessor
from pipeline.flow.item import Rejection
from pipeline.index.sink import IndexAction, ItemOutcome
from pipeline.ingest.records import RawRecord
from pipeline.ingest.report import Report
from pipeline.ops import metrics
from pipeline.worker.observe import agent_check
from pipeline.worker.runtime import AgentState, Runtime
from tests.harness import Deployment, wait_for
from tests.worker.support import (
    STREAM_TOPIC,
    assert_stream_outcome,
    committed,
    dead_letters,
    failing_check,
    mixed_stream,
    readiness,
)

STORIES, MEMBERS = 6, 4


def paused_because(deployment: Deployment, agent: str) -> str | None:
    """The backpressure reason readiness gives for `agent`, None while it is not paused."""
    check = failing_check(deployment, f"agent:{agent}") or {}
    reason = check.get("data", {}).get("backpressure")
    return str(reason) if reason is not None else None


def metric_value(base: str, name: str, label: str) -> float:
    for line in httpx.get(f"{base}/metrics", timeout=10).text.splitlines():
        if line.startswith(f"{name}{{") and label in line:
            return float(line.split()[-1])
    return 0.0


def letter_reasons(deployment: Deployment) -> dict[str, int]:
    reasons: dict[str, int] = {}
    for letter in dead_letters(deployment):
        reasons[letter.reason] = reasons.get(letter.reason, 0) + 1
    return reasons


def count(es: Elasticsearch, alias: str, run: str) -> int:
    if not es.indices.exists_alias(name=alias):
        return 0
    es.indices.refresh(index=alias)
    return int(es.count(index=alias, query={"prefix": {"source_id": f"{run}-"}})["count"])


def block_mid_stream_then_lift(deployment: Deployment, es: Elasticsearch, target: str) -> None:
    """Half the stories indexed, `target` blocked, the rest published: the worker pauses
    without a dead letter; lifted, everything lands once."""
    run = uuid.uuid4().hex[:8]
    stream = mixed_stream(run, STORIES, MEMBERS)
    alias = deployment.settings.index_alias
    index = {"dedup": f"{alias}-dedup", "reports": alias}[target]
    worker = deployment.start_worker()
    base = f"http://127.0.0.1:{worker.port}"
    first = (STORIES // 2) * (MEMBERS + 1)  # the first half of the stories, one bad each
    stream.publish(deployment, slice(0, first))
    valid_first = (STORIES // 2) * MEMBERS
    wait_for(lambda: count(es, alias, run) >= valid_first, 180, "the first half", worker.log)
    topic = deployment.topic(STREAM_TOPIC)
    wait_for(lambda: committed(deployment, topic) >= first, 60, "its commit", worker.log)
    letters_before = len(dead_letters(deployment))

    es.indices.put_settings(index=index, settings={"index.blocks.write": True})
    try:
        stream.publish(deployment, slice(first, None))
        wait_for(
            lambda: paused_because(deployment, STREAM_TOPIC) == Unavailability.BLOCKED,
            120,
            f"readiness to report the {target} block",
            lambda: f"{readiness(deployment)}\ndead letters: {letter_reasons(deployment)}",
        )
        assert metric_value(base, "ct_pipeline_backpressure", 'reason="blocked"') >= 1
        assert metric_value(base, "ct_pipeline_backpressure_retries_total", 'reason="blocked"') >= 1
        assert '"backpressure_reason": "blocked"' in worker.log()
        # paused, not drained: nothing of the second half is indexed, dead-lettered or committed
        assert count(es, alias, run) == valid_first
        assert len(dead_letters(deployment)) == letters_before
        assert committed(deployment, topic) == first
    finally:
        es.indices.put_settings(index=index, settings={"index.blocks.write": None})

    total = len(stream.records)
    wait_for(lambda: committed(deployment, topic) >= total, 180, "every record", worker.log)
    wait_for(
        lambda: paused_because(deployment, STREAM_TOPIC) is None,
        60,
        "the pause to end",
        lambda: str(readiness(deployment)),
    )
    assert metric_value(base, "ct_pipeline_backpressure", 'reason="blocked"') == 0
    assert_stream_outcome(es, deployment, stream)
    assert worker.alive(), worker.log()


@pytest.mark.integration
@pytest.mark.slow
def test_a_write_block_on_the_dedup_state_pauses_and_loses_nothing(
    deployment: Deployment, es: Elasticsearch
) -> None:
    block_mid_stream_then_lift(deployment, es, "dedup")


@pytest.mark.integration
@pytest.mark.slow
def test_a_write_block_on_the_reports_index_pauses_and_loses_nothing(
    deployment: Deployment, es: Elasticsearch
) -> None:
    block_mid_stream_then_lift(deployment, es, "reports")


class _Enricher:
    def enrich(self, reports: Sequence[Report]) -> list[Enrichment]:
        return [Enrichment() for _ in reports]


class _RefusingDeduplicator:
    """Refuses like a rotated key would, `refusals` times; records readiness meanwhile."""

    def __init__(self, refusals: int, state: AgentState) -> None:
        self.refusals = refusals
        self.state = state
        self.seen: list[tuple[bool, object]] = []

    def assign(
        self, reports: Sequence[Report], enrichments: Sequence[Enrichment]
    ) -> list[ClusterAssignment]:
        check = agent_check("a", self.state)
        self.seen.append((check.ok, check.data.get("backpressure")))
        if self.refusals:
            self.refusals -= 1
            raise SearchRefused("dedup assign: 401", reason=Unavailability.AUTH)
        return [ClusterAssignment(cluster_id=r.source_id, duplicate=False) for r in reports]


class _Sink:
    def write(self, actions: Sequence[IndexAction], *, index: str) -> list[ItemOutcome]:
        return [ItemOutcome(action, "indexed", 201) for action in actions]


def test_a_refused_credential_pauses_with_readiness_red_then_resumes() -> None:
    record = RawRecord(
        topic="intake.public-reports",
        partition=0,
        offset=0,
        key=b"a-1",
        value=json.dumps(
            {"id": "a-1", "received_at": "2026-11-20T10:00:00Z", "description": "A van"}
        ).encode(),
        timestamp_ms=1_790_000_000_000,
    )
    sent: list[Rejection] = []

    async def send(dead: Rejection) -> None:
        sent.append(dead)

    def sample(name: str) -> float:
        return metrics.REGISTRY.get_sample_value(name, {"reason": "auth"}) or 0.0

    before = sample("ct_pipeline_backpressure_retries_total")
    state = AgentState(running=True)
    dedup = _RefusingDeduplicator(2, state)
    processor = BatchProcessor(
        steps(enricher=_Enricher(), deduplicator=dedup, sink=_Sink(), index="r")
    )
    runtime = Runtime(processor=processor, send_dead_letter=send, max_backoff_s=0.01)
    runtime.agents["a"] = state
    try:
        outcome = asyncio.run(runtime.handle("a", [record]))
    finally:
        runtime.close()
    assert [r.source_id for r in outcome.indexed] == ["a-1"]
    assert sent == []
    # ready before the first refusal, red with the reason while paused, ready again after
    assert dedup.seen == [(True, None), (False, "auth"), (False, "auth")]
    assert agent_check("a", state).ok
    assert sample("ct_pipeline_backpressure_retries_total") - before == 2
    assert sample("ct_pipeline_backpressure") == 0
