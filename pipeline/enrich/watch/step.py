"""The watch step: every report just indexed matched against the live watchlist entries.

It runs after `index`, inside the batch, before the batch's offsets are committed: a worker
killed between indexing and alerting redoes the batch, and the alerts' deterministic ids make
the redo write nothing twice. Then every alert of the batch not yet on the `alerts` topic is
published and marked published: those this batch created, and those an earlier try created
but never published (a crash, or the broker down). A failure of either is backpressure: the
batch is retried, never dead-lettered.

A report's public mentions (offsets into the masked text analysts read) match every entry; its
restricted values only `restricted` entries (pipeline/enrich/watch/matcher.py), so an
analyst's alert never carries a caller's phone. Saved searches run once per batch over the
reports it indexed (`searches`, pipeline/enrich/watch/searches.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pipeline.enrich.watch.alerts import Sighting, alert_documents
from pipeline.enrich.watch.entries import WatchEntry
from pipeline.enrich.watch.matcher import Match, Watchlist
from pipeline.enrich.watch.publish import AlertRecord, alert_record
from pipeline.flow.item import Item, needs
from pipeline.index.document import doc_id


class Entries(Protocol):
    """Where the step reads the live entries (pipeline.enrich.watch.store.WatchSync)."""

    def current(self, now: datetime) -> Watchlist: ...


class Alerts(Protocol):
    """Where the step writes what it saw (pipeline.enrich.watch.alerts.AlertWriter)."""

    def write(self, sightings: Sequence[Sighting]) -> list[str]: ...

    def unpublished(self, alert_ids: Sequence[str]) -> list[dict[str, Any]]: ...

    def mark_published(self, alert_ids: Sequence[str]) -> None: ...


class Publishes(Protocol):
    """Where alerts go on to Kafka (pipeline.enrich.watch.publish.AlertPublisher)."""

    def publish(self, records: Sequence[AlertRecord]) -> None: ...

    def close(self) -> None: ...


class SearchesProtocol(Protocol):
    """Runs saved searches over indexed reports (pipeline.enrich.watch.searches.BatchSearches):
    report `_id` -> a match, with its highlight, per entry that finds it."""

    def matches(
        self, entries: Sequence[WatchEntry], report_ids: Sequence[str]
    ) -> dict[str, list[Match]]: ...


@dataclass(frozen=True, slots=True)
class _Seen:
    report_id: str
    cluster_id: str
    source: str


@dataclass(frozen=True)
class Watch:
    """Match, write alerts, publish them; a failed write or publish fails the batch (retried,
    never dead-lettered). Without a `publisher` alerts stay in the index only."""

    entries: Entries
    alerts: Alerts
    publisher: Publishes | None = None
    searches: SearchesProtocol | None = None
    name: str = "watch"
    interruptible: bool = False

    def run(self, items: Sequence[Item]) -> None:
        """Write a sighting for every (entry, report) match among the indexed reports, then
        publish the alerts not yet published."""
        now = datetime.now(UTC)
        watchlist = self.entries.current(now)
        if not len(watchlist):
            return
        sightings: list[Sighting] = []
        indexed: list[_Seen] = []
        for item in items:
            report = needs(item.report, "a report", self.name)
            enrichment = needs(item.enrichment, "an enrichment", self.name)
            report_id = doc_id(report.source, report.source_id)
            cluster = item.cluster.cluster_id if item.cluster is not None else report_id
            seen = _Seen(report_id, cluster, report.source.value)
            matches = watchlist.match_report(
                report.text, enrichment.mentions, report.restricted, now
            )
            sightings += [_sighting(match, seen, now) for match in matches]
            if item.settled == "indexed":
                indexed.append(seen)
        sightings += self._searched(watchlist.searches(now), indexed, now)
        if not sightings:
            return
        created = self.alerts.write(sightings)
        if self.publisher is not None:
            self._publish(self.publisher, sightings, created)

    def close(self) -> None:
        """Close the publisher's connection, if there is one."""
        if self.publisher is not None:
            self.publisher.close()

    def _searched(
        self, entries: list[WatchEntry], indexed: list[_Seen], now: datetime
    ) -> list[Sighting]:
        """The saved searches' matches among the reports this batch indexed (one call)."""
        if self.searches is None or not entries or not indexed:
            return []
        by_id = {seen.report_id: seen for seen in indexed}
        found = self.searches.matches(entries, list(by_id))
        return [
            _sighting(match, by_id[report_id], now)
            for report_id, matches in found.items()
            if report_id in by_id
            for match in matches
        ]

    def _publish(self, publisher: Publishes, sightings: list[Sighting], created: list[str]) -> None:
        """Publish the batch's new alerts and those an earlier try left unpublished, then
        mark them. A crash after the broker took them and before the mark publishes them once
        more on the redo: consumers dedupe by `alert_id`."""
        documents = alert_documents(sightings)
        new = set(created)
        pending = [documents[alert] for alert in created]
        pending += self.alerts.unpublished([alert for alert in documents if alert not in new])
        if not pending:
            return
        publisher.publish([alert_record(doc) for doc in pending])
        self.alerts.mark_published([str(doc["alert_id"]) for doc in pending])


def _sighting(match: Match, seen: _Seen, now: datetime) -> Sighting:
    return Sighting(match, seen.report_id, seen.cluster_id, seen.source, now)
