"""Valid watch entries for tests, created at a fixed `NOW` (plain functions: hypothesis-safe),
and a batch path whose other steps are stand-ins, for testing the watch step inside it."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.exact import extract_exact
from pipeline.enrich.mentions import Enrichment
from pipeline.enrich.watch import WatchEntry
from pipeline.enrich.watch.step import Watch
from pipeline.flow.assemble import steps
from pipeline.flow.batch import BatchProcessor
from pipeline.index.sink import IndexAction, ItemOutcome
from pipeline.ingest.report import Report

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)

_ids = itertools.count()


def entry(target: Any, **fields: Any) -> WatchEntry:
    """`entry("phone:07700 900123", id="e1")`: an entry created at NOW, the rest filled in."""
    fields.setdefault("id", f"entry-{next(_ids)}")
    fields.setdefault("owner", "analyst1")
    fields.setdefault("justification", "linked to operation TEST")
    fields.setdefault("created", NOW)
    return WatchEntry(target=target, **fields)


class _Enricher:
    """The exact extractors only: no NER model to load."""

    def enrich(self, reports: Sequence[Report]) -> list[Enrichment]:
        return [Enrichment.from_mentions(extract_exact(r.text), None) for r in reports]


class _Dedup:
    """Every report in one story."""

    def assign(
        self, reports: Sequence[Report], enrichments: Sequence[Enrichment]
    ) -> list[ClusterAssignment]:
        return [ClusterAssignment(cluster_id="one-story", duplicate=False) for _ in reports]


class _Sink:
    """Every document indexed."""

    def write(self, actions: Sequence[IndexAction], *, index: str) -> list[ItemOutcome]:
        return [ItemOutcome(action, "indexed", 201) for action in actions]


def watching_processor(watch: Watch, index: str = "r") -> BatchProcessor:
    """The batch path with `watch` after stand-ins for enrichment, dedup and the index."""
    return BatchProcessor(
        steps(enricher=_Enricher(), deduplicator=_Dedup(), sink=_Sink(), index=index, watch=watch)
    )
