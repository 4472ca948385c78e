"""The watch step: every report just indexed matched against the live watchlist entries.

It runs after `index`, inside the batch, before the batch's offsets are committed: a worker
killed between indexing and alerting redoes the batch, and the alerts' deterministic ids make
the redo write nothing twice. Only the report's own mentions are matched, never restricted
values (a caller's phone), so no alert carries one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from pipeline.enrich.watch.alerts import Sighting
from pipeline.enrich.watch.matcher import Watchlist
from pipeline.flow.item import Item, needs
from pipeline.index.document import doc_id


class Entries(Protocol):
    """Where the step reads the live entries (pipeline.enrich.watch.store.WatchSync)."""

    def current(self, now: datetime) -> Watchlist: ...


class Alerts(Protocol):
    """Where the step writes what it saw (pipeline.enrich.watch.alerts.AlertWriter)."""

    def write(self, sightings: Sequence[Sighting]) -> list[str]: ...


@dataclass(frozen=True)
class Watch:
    """Match, then write alerts; a failed write fails the batch (retried, never dead-lettered)."""

    entries: Entries
    alerts: Alerts
    name: str = "watch"
    interruptible: bool = False

    def run(self, items: Sequence[Item]) -> None:
        """Write a sighting for every (entry, report) match among the indexed reports."""
        now = datetime.now(UTC)
        watchlist = self.entries.current(now)
        if not len(watchlist):
            return
        sightings: list[Sighting] = []
        for item in items:
            report = needs(item.report, "a report", self.name)
            enrichment = needs(item.enrichment, "an enrichment", self.name)
            report_id = doc_id(report.source, report.source_id)
            cluster = item.cluster.cluster_id if item.cluster is not None else report_id
            sightings += [
                Sighting(match, report_id, cluster, report.source.value, now)
                for match in watchlist.match(enrichment, now)
            ]
        if sightings:
            self.alerts.write(sightings)
