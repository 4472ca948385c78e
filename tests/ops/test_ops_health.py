"""Readiness checks turn red for real: closed ports, stale heartbeats, stuck partitions."""

from __future__ import annotations

import asyncio
import json

import pytest

from pipeline.ops.health import (
    CheckResult,
    Health,
    elasticsearch_check,
    kafka_check,
    liveness,
    stuck_partitions_check,
)
from pipeline.ops.history import LagRow
from pipeline.ops.status import Status
from pipeline.settings import Settings
from tests.harness import free_port


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: bound once to pick it, then released."""
    return free_port()


def test_report_is_ready_only_when_every_check_passes() -> None:
    health = Health()
    health.register("a", lambda: CheckResult(True, "fine"))
    assert health.report()["ready"] is True

    def broken() -> CheckResult:
        raise RuntimeError("no")

    health.register("b", broken)
    report = health.report()
    assert report["ready"] is False
    assert report["checks"]["a"]["ok"] is True
    assert report["checks"]["b"] == {
        "ok": False,
        "detail": "check raised RuntimeError: no",
        "seconds": report["checks"]["b"]["seconds"],
    }
    json.dumps(report)
    assert asyncio.run(health.report_async())["ready"] is False
    assert health.names() == ["a", "b"]


def test_liveness_needs_nothing() -> None:
    assert liveness()["alive"] is True


def row(status: Status) -> LagRow:
    return LagRow("g", "t", 0, 1, 5, 4, 1.0, status, "Stable", 1)


def test_stuck_partitions_check() -> None:
    rows: list[LagRow] = []
    check = stuck_partitions_check(lambda: rows)
    assert check().ok
    rows.append(row(Status.STALL))
    result = check()
    assert not result.ok
    assert result.data == {"stuck": ["g:t/0=STALL"]}


def test_elasticsearch_unreachable_is_not_ready(closed_port: int) -> None:
    settings = Settings(elasticsearch_url=f"http://127.0.0.1:{closed_port}")
    result = elasticsearch_check(settings, timeout_s=1.0)()
    assert not result.ok
    assert "unreachable" in result.detail


def test_kafka_unreachable_is_not_ready(closed_port: int) -> None:
    settings = Settings(kafka_bootstrap_servers=f"127.0.0.1:{closed_port}")
    result = kafka_check(settings, timeout_s=1.0)()
    assert not result.ok
    assert "unreachable" in result.detail


@pytest.mark.integration
def test_live_stack_is_ready(settings: Settings) -> None:
    health = Health()
    health.register("elasticsearch", elasticsearch_check(settings))
    health.register("kafka", kafka_check(settings))
    report = health.report()
    assert report["ready"], report
    assert report["checks"]["kafka"]["data"]["brokers"] >= 1


@pytest.mark.integration
def test_copy_of_live_settings_at_a_closed_port_is_not_ready(
    settings: Settings, closed_port: int
) -> None:
    broken = settings.model_copy(
        update={
            "elasticsearch_url": f"http://127.0.0.1:{closed_port}",
            "kafka_bootstrap_servers": f"127.0.0.1:{closed_port}",
        }
    )
    health = Health()
    health.register("elasticsearch", elasticsearch_check(broken, timeout_s=1.0))
    health.register("kafka", kafka_check(broken, timeout_s=1.0))
    report = health.report()
    assert report["ready"] is False
    assert not report["checks"]["elasticsearch"]["ok"]
    assert not report["checks"]["kafka"]["ok"]
