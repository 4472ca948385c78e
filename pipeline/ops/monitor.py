"""Periodic lag refresh for a long-running process: probe, judge, publish gauges, feed /readyz.

The worker wires it with a timer (faust: `@app.timer(settings.lag_refresh_interval_s)`):

    monitor = LagMonitor(settings)
    health.register("partitions", stuck_partitions_check(monitor.alarming))
    ...
    await monitor.refresh_async()     # every lag_refresh_interval_s
    monitor.close()                   # on shutdown

A failed refresh (broker down) is logged and leaves the previous view in place; the
Kafka readiness check is what reports the broker itself.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from pipeline.errors import KafkaUnavailable
from pipeline.ops import metrics
from pipeline.ops.history import LagRow, LagTracker
from pipeline.ops.lag import LagProbe
from pipeline.settings import Settings

__all__ = ["LagMonitor"]

log = logging.getLogger(__name__)


class LagMonitor:
    """Owns one LagProbe and one LagTracker; safe to call from one thread at a time."""

    def __init__(self, settings: Settings, groups: list[str] | None = None) -> None:
        self.groups = groups or [settings.consumer_group]
        self.tracker = LagTracker(settings.lag_window_samples)
        self._probe = LagProbe(settings)
        self._lock = threading.Lock()

    def refresh(self) -> bool:
        """Take one sample of every group and publish it; False when Kafka could not be read."""
        with self._lock:
            try:
                snapshots = self._probe.snapshot(self.groups)
            except KafkaUnavailable as exc:
                log.warning("lag refresh failed", extra={"error": str(exc)})
                self._probe.close()  # reconnect from scratch next time
                return False
            self.tracker.add(snapshots)
            metrics.record_lag(self.tracker.rows())
            return True

    async def refresh_async(self) -> bool:
        """`refresh()` in a worker thread so the event loop keeps consuming."""
        return await asyncio.to_thread(self.refresh)

    def rows(self) -> list[LagRow]:
        """The newest row of every partition of the monitored groups."""
        with self._lock:
            return self.tracker.rows()

    def alarming(self) -> list[LagRow]:
        """Partitions currently STALL or STOP (for `stuck_partitions_check`)."""
        with self._lock:
            return self.tracker.alarming()

    def close(self) -> None:
        """Close the Kafka clients."""
        with self._lock:
            self._probe.close()
