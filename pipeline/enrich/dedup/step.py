"""The dedup step: each report's duplicate cluster, from state shared by every worker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.mentions import Enrichment
from pipeline.flow.item import Item, needs
from pipeline.ingest.report import Report


class Deduplicates(Protocol):
    """What the step needs from dedup (pipeline.enrich.dedup.Deduplicator)."""

    def assign(
        self, reports: Sequence[Report], enrichments: Sequence[Enrichment]
    ) -> list[ClusterAssignment]: ...


@dataclass(frozen=True)
class Deduplicate:
    """Claims and answers in Elasticsearch: not interruptible."""

    deduplicator: Deduplicates
    name: str = "dedup"
    interruptible: bool = False

    def run(self, items: Sequence[Item]) -> None:
        """Set each item's cluster assignment."""
        reports = [needs(item.report, "a report", self.name) for item in items]
        enrichments = [needs(item.enrichment, "an enrichment", self.name) for item in items]
        clusters = self.deduplicator.assign(reports, enrichments)
        for item, cluster in zip(items, clusters, strict=True):
            item.cluster = cluster
