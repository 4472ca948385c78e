"""Liveness and readiness: a registry of named checks and the checks the pipeline needs.

A check is any callable returning a `CheckResult`. `Health.report()` runs them all and says
ready only when every check passes; a check that raises counts as failed, with the error.
Liveness (`liveness()`) asks nothing of Kafka or Elasticsearch: a process that can answer
is alive, and restarting it would not bring a broker back.
The Kafka and Elasticsearch checks block for at most their timeout; async servers should
call `await health.report_async()`, which runs them in a worker thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaAdminClient

from pipeline.clients import elasticsearch_client
from pipeline.errors import KafkaUnavailable
from pipeline.ops.kafka_clients import build_client
from pipeline.settings import Settings

__all__ = [
    "CheckResult",
    "Health",
    "elasticsearch_check",
    "kafka_check",
    "liveness",
    "stuck_partitions_check",
]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's verdict; `detail` is a short human-readable reason."""

    ok: bool
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)


Check = Callable[[], CheckResult]


class Health:
    """Named readiness checks, run together into one JSON-able report."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def register(self, name: str, check: Check) -> None:
        """Add or replace the check called `name`."""
        self._checks[name] = check

    def names(self) -> list[str]:
        """Registered check names, in registration order."""
        return list(self._checks)

    def report(self) -> dict[str, Any]:
        """`{"ready": bool, "checks": {name: {"ok", "detail", "data"?, "seconds"}}}`."""
        checks: dict[str, Any] = {}
        for name, check in self._checks.items():
            start = time.perf_counter()
            try:
                result = check()
            except Exception as exc:  # a broken check must make us not ready, not crash /readyz
                result = CheckResult(False, f"check raised {type(exc).__name__}: {exc}")
            entry: dict[str, Any] = {"ok": result.ok, "detail": result.detail}
            if result.data:
                entry["data"] = result.data
            entry["seconds"] = round(time.perf_counter() - start, 4)
            checks[name] = entry
        return {"ready": all(c["ok"] for c in checks.values()), "checks": checks}

    async def report_async(self) -> dict[str, Any]:
        """`report()` in a worker thread, for an event loop that must not block."""
        return await asyncio.to_thread(self.report)


def liveness() -> dict[str, Any]:
    """The /healthz body: answering at all is the proof of life."""
    return {"alive": True, "time": time.time()}


def elasticsearch_check(settings: Settings, *, timeout_s: float | None = None) -> Check:
    """Ready when the cluster answers a health call within the timeout and is not red."""
    timeout = timeout_s or settings.health_timeout_s

    def check() -> CheckResult:
        client = elasticsearch_client(
            settings, request_timeout=timeout, max_retries=0, retry_on_timeout=False
        )
        try:
            health = client.cluster.health(timeout=f"{max(int(timeout * 1000), 1)}ms")
        except Exception as exc:  # any failure to answer means "not reachable" here
            return CheckResult(False, f"Elasticsearch unreachable: {type(exc).__name__}")
        finally:
            client.close()
        status = str(health.get("status"))
        data = {"status": status, "cluster": health.get("cluster_name")}
        return CheckResult(status in ("green", "yellow"), f"cluster {status}", data)

    return check


def kafka_check(settings: Settings, *, timeout_s: float | None = None) -> Check:
    """Ready when a broker answers a metadata request within the timeout."""
    timeout = timeout_s or settings.health_timeout_s

    def check() -> CheckResult:
        try:
            admin = build_client(KafkaAdminClient, settings, timeout)
        except KafkaUnavailable as exc:
            return CheckResult(False, str(exc))
        try:
            cluster = admin.describe_cluster()
        except Exception as exc:
            return CheckResult(False, f"Kafka metadata request failed: {type(exc).__name__}")
        finally:
            admin.close()
        brokers = len(cluster.get("brokers") or [])
        return CheckResult(brokers > 0, f"{brokers} broker(s)", {"brokers": brokers})

    return check


def stuck_partitions_check(rows: Callable[[], list[Any]]) -> Check:
    """Not ready while any partition is STALL or STOP; `rows` returns the newest LagRows.

    The worker refreshes a `LagTracker` periodically and passes `tracker.alarming`.
    """

    def check() -> CheckResult:
        stuck = rows()
        if not stuck:
            return CheckResult(True, "no stuck partition")
        names = [f"{r.group}:{r.topic}/{r.partition}={r.status}" for r in stuck]
        return CheckResult(False, f"{len(stuck)} stuck partition(s)", {"stuck": names})

    return check
