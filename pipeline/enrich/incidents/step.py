"""The incidents step: each report's incident, from vectors and answers every worker shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.incidents.decide import IncidentAssignment
from pipeline.enrich.mentions import Enrichment
from pipeline.flow.item import Item, needs
from pipeline.ingest.report import Report

__all__ = ["AssignsIncidents", "Incidents"]


class AssignsIncidents(Protocol):
    """What the step needs (pipeline.enrich.incidents.assigner.IncidentAssigner)."""

    def assign(
        self,
        reports: Sequence[Report],
        enrichments: Sequence[Enrichment],
        clusters: Sequence[ClusterAssignment],
    ) -> list[IncidentAssignment]: ...

    def apply_corrections(self, *, now: bool = False) -> int: ...


@dataclass(frozen=True)
class Incidents:
    """After dedup (a cluster lies inside one incident), before index (the document carries
    `incident_id`). Answers are written under a lease: not interruptible."""

    assigner: AssignsIncidents
    name: str = "incidents"
    interruptible: bool = False

    def run(self, items: Sequence[Item]) -> None:
        """Set each item's incident."""
        reports = [needs(item.report, "a report", self.name) for item in items]
        enrichments = [needs(item.enrichment, "an enrichment", self.name) for item in items]
        clusters = [needs(item.cluster, "a cluster", self.name) for item in items]
        for item, incident in zip(
            items, self.assigner.assign(reports, enrichments, clusters), strict=True
        ):
            item.incident = incident

    def idle(self) -> None:
        """What an idle worker does for this step: apply analysts' pending corrections."""
        self.assigner.apply_corrections(now=True)
