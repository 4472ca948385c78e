"""The enrich step: entities, mentions and region for every report of the batch at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pipeline.enrich.mentions import Enrichment
from pipeline.flow.item import Item, needs
from pipeline.ingest.report import Report


class Enriches(Protocol):
    """What the step needs from the enricher (pipeline.enrich.extract.Enricher)."""

    def enrich(self, reports: Sequence[Report]) -> list[Enrichment]: ...


@dataclass(frozen=True)
class Enrich:
    """NER and the exact extractors over the batch (one `nlp.pipe` call)."""

    enricher: Enriches
    name: str = "enrich"
    interruptible: bool = True

    def run(self, items: Sequence[Item]) -> None:
        """Set each item's enrichment."""
        reports = [needs(item.report, "a report", self.name) for item in items]
        for item, enrichment in zip(items, self.enricher.enrich(reports), strict=True):
            item.enrichment = enrichment
