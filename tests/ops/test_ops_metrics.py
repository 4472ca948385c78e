"""The metrics registry: recording functions move the right series; promtool finds it clean."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.ingest.sources import Source
from pipeline.ops import metrics
from pipeline.ops.history import LagRow
from pipeline.ops.status import Status


def value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def lag_row(partition: int, lag: int | None, seconds: float | None) -> LagRow:
    return LagRow(
        group="g-metrics",
        topic="t",
        partition=partition,
        committed=0 if lag is not None else None,
        end=lag or 0,
        lag=lag,
        lag_seconds=seconds,
        status=Status.OK,
        group_state="Stable",
        members=1,
    )


def test_outcomes_count_by_source_and_outcome() -> None:
    labels = {"source": "hotline_call", "outcome": "indexed"}
    before = value("ct_pipeline_records_total", **labels)
    metrics.record_outcome(Source.HOTLINE_CALL, metrics.Outcome.INDEXED, 3)
    assert value("ct_pipeline_records_total", **labels) == before + 3


def test_dead_letter_counts_reason_and_outcome() -> None:
    dlq = {"source": "public_report", "reason": "missing_field"}
    out = {"source": "public_report", "outcome": "dead_lettered"}
    before = (
        value("ct_pipeline_dlq_records_total", **dlq),
        value("ct_pipeline_records_total", **out),
    )
    metrics.record_dead_letter(Source.PUBLIC_REPORT, "missing_field")
    metrics.record_dead_letter(None, "unknown_topic")
    assert value("ct_pipeline_dlq_records_total", **dlq) == before[0] + 1
    assert value("ct_pipeline_records_total", **out) == before[1] + 1
    assert value("ct_pipeline_dlq_records_total", source="unknown", reason="unknown_topic") >= 1


def test_labels_outside_the_closed_sets_are_refused() -> None:
    with pytest.raises(ValueError):
        metrics.record_outcome("somewhere", "indexed")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        metrics.observe_stage("parse", 0.1)  # no step of that name was declared


def test_the_assembled_path_declares_its_step_names_as_stages() -> None:
    from pipeline.flow.assemble import steps

    path = steps(enricher=None, deduplicator=None, sink=None, index="r")  # type: ignore[arg-type]
    metrics.declare_stages(step.name for step in path)
    assert [step.name for step in path] == ["ingest", "enrich", "dedup", "index"]
    for name in ("batch", *(step.name for step in path)):
        metrics.observe_stage(name, 0.0)


def test_stage_timer_observes_one_call_with_its_duration() -> None:
    metrics.declare_stages(["enrich"])
    before = value("ct_pipeline_stage_duration_seconds_count", stage="enrich")
    total = value("ct_pipeline_stage_duration_seconds_sum", stage="enrich")
    metrics.observe_stage("enrich", 0.25)
    assert value("ct_pipeline_stage_duration_seconds_count", stage="enrich") == before + 1
    assert value("ct_pipeline_stage_duration_seconds_sum", stage="enrich") == total + 0.25


def test_searchable_latencies() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    src = {"source": "online_referral"}
    before = value("ct_pipeline_received_to_searchable_seconds_sum", **src)
    metrics.observe_searchable(
        Source.ONLINE_REFERRAL,
        received_at=now - timedelta(seconds=42),
        published_ms=int(now.timestamp() * 1000) - 2000,
        searchable_at=now.timestamp(),
    )
    assert value("ct_pipeline_received_to_searchable_seconds_sum", **src) == before + 42
    assert value("ct_pipeline_published_to_searchable_seconds_bucket", le="2.0", **src) >= 1


def test_lag_gauges_follow_the_rows() -> None:
    metrics.record_lag([lag_row(0, 5, 1.5), lag_row(1, 0, 0.0)])
    labels = {"group": "g-metrics", "topic": "t"}
    assert value("ct_pipeline_consumer_lag_records", partition="0", **labels) == 5
    assert value("ct_pipeline_consumer_lag_seconds", partition="0", **labels) == 1.5
    metrics.record_lag([lag_row(1, 2, 0.5)])
    assert (
        metrics.REGISTRY.get_sample_value(
            "ct_pipeline_consumer_lag_records", {"partition": "0", **labels}
        )
        is None
    )
    assert value("ct_pipeline_consumer_lag_records", partition="1", **labels) == 2


def test_api_requests() -> None:
    before = value("ct_pipeline_api_requests_total", method="GET", route="/search", status="200")
    metrics.observe_api_request("get", "/search", 200, 0.012)
    assert value("ct_pipeline_api_requests_total", method="GET", route="/search", status="200") == (
        before + 1
    )


def test_promtool_finds_the_exposition_clean() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "promtool is missing in CI: scripts/system-deps installs Debian's prometheus"
            )
        pytest.skip("promtool not installed (scripts/system-deps installs it)")
    # Give every family at least one series so promtool sees all of them.
    metrics.record_outcome(Source.PUBLIC_REPORT, metrics.Outcome.STALE)
    metrics.record_dead_letter(Source.PUBLIC_REPORT, "invalid_json")
    stages = ("ingest", "enrich", "dedup", "index")
    metrics.declare_stages(stages)
    for stage in (*stages, "batch"):
        metrics.observe_stage(stage, 0.0)
    metrics.record_bulk_retry()
    metrics.observe_searchable(Source.PUBLIC_REPORT, received_at=datetime.now(UTC), published_ms=0)
    metrics.observe_api_request("GET", "/search", 200, 0.01)
    metrics.record_lag([lag_row(0, 1, 1.0)])
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    text = body.decode()
    for family in (
        "ct_pipeline_consumer_lag_records",
        "ct_pipeline_consumer_lag_seconds",
        "ct_pipeline_records_total",
        "ct_pipeline_dlq_records_total",
        "ct_pipeline_stage_duration_seconds",
        "ct_pipeline_bulk_retries_total",
        "ct_pipeline_received_to_searchable_seconds",
        "ct_pipeline_published_to_searchable_seconds",
        "ct_pipeline_api_requests_total",
        "ct_pipeline_api_request_duration_seconds",
    ):
        assert f"\n{family}" in text, family
    result = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert not (result.stdout + result.stderr).strip(), result.stderr.decode()  # lint findings
