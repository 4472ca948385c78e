"""The index step: one externally versioned document per item, written in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from pipeline.errors import RecordError
from pipeline.flow.item import Item, needs
from pipeline.index.document import build_document, doc_id, doc_version
from pipeline.index.sink import IndexAction, ItemOutcome


class Sinks(Protocol):
    """What the step needs from the sink (pipeline.index.sink.BulkSink)."""

    def write(self, actions: Sequence[IndexAction], *, index: str) -> list[ItemOutcome]: ...


@dataclass(frozen=True)
class Index:
    """Write to `index` (the live alias, or a reindex target); settles or rejects every item."""

    sink: Sinks
    index: str
    name: str = "index"
    interruptible: bool = False

    def run(self, items: Sequence[Item]) -> None:
        """Settle each written (or stale) item; reject those Elasticsearch refused for good."""
        ingested_at = datetime.now(UTC)
        actions = []
        for item in items:
            report = needs(item.report, "a report", self.name)
            enrichment = needs(item.enrichment, "an enrichment", self.name)
            actions.append(
                IndexAction(
                    doc_id=doc_id(report.source, report.source_id),
                    version=doc_version(report),
                    document=build_document(
                        report,
                        enrichment,
                        item.cluster,
                        ingested_at=ingested_at,
                        incident=item.incident.incident_id if item.incident else None,
                    ),
                )
            )
        results = self.sink.write(actions, index=self.index)
        for item, result in zip(items, results, strict=True):
            if result.status == "rejected":
                item.reject(
                    RecordError(
                        f"Elasticsearch rejected the document: {result.error}",
                        stage=self.name,
                        reason="index_rejected",
                        details={"error": result.error},
                    )
                )
            else:
                item.settle(result.status)
