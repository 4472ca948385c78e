"""Pairwise precision and recall of the clustering against a labelled set of reports."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.dedup.keys import DedupParams, report_keys
from pipeline.enrich.dedup.ledger import Ledger
from pipeline.enrich.mentions import Enrichment
from pipeline.enrich.pairs import PairScore, pair_score
from pipeline.ingest.report import Origin, Report
from pipeline.ingest.sources import TOPIC_BY_SOURCE, Source

DEFAULT_LABELS = Path(__file__).resolve().parents[3] / "eval" / "clusters" / "labelled.jsonl"

Assigner = Callable[[Sequence[Report], Sequence[Enrichment]], list[ClusterAssignment]]


@dataclass(frozen=True, slots=True)
class Labelled:
    """One report of the labelled set and the story (`cluster`) a person put it in."""

    cluster: str
    report: Report


def load_labelled(path: Path) -> list[Labelled]:
    """Read `{"cluster", "source", "id", "text", "url"?}` lines into reports."""
    rows: list[Labelled] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        row = json.loads(line)
        source = Source(row["source"])
        report = Report(
            source=source,
            source_id=row["id"],
            received_at=datetime(2025, 1, 1, tzinfo=UTC),
            text=row["text"],
            url=row.get("url"),
            origin=Origin(topic=TOPIC_BY_SOURCE[source], partition=0, offset=number),
        )
        rows.append(Labelled(cluster=row["cluster"], report=report))
    return rows


def in_memory(params: DedupParams) -> Assigner:
    """The assignment logic of `Deduplicator` over a process-local ledger (no Elasticsearch)."""
    ledger = Ledger(params.threshold)

    def assign(reports: Sequence[Report], _: Sequence[Enrichment]) -> list[ClusterAssignment]:
        return [ledger.assign(report_keys(report, params)) for report in reports]

    return assign


def score(labelled: Sequence[Labelled], assign: Assigner, batch_size: int = 200) -> PairScore:
    """Assign the labelled reports in file order, in batches, and count pairs."""
    found: list[ClusterAssignment] = []
    for start in range(0, len(labelled), batch_size):
        batch = [row.report for row in labelled[start : start + batch_size]]
        found += assign(batch, [Enrichment() for _ in batch])
    return pair_score(
        [row.report.source_id for row in labelled],
        [row.cluster for row in labelled],
        [a.cluster_id for a in found],
    )


def describe(result: PairScore) -> Iterable[str]:
    """Lines `pipeline dedup eval` prints."""
    yield (
        f"reports={result.reports} gold_clusters={result.gold_clusters} "
        f"found_clusters={result.found_clusters}"
    )
    yield (
        f"pairs: true={result.true_pairs} false={len(result.false_pairs)} "
        f"missed={len(result.missed_pairs)}"
    )
    yield f"pairwise precision={result.precision:.3f} recall={result.recall:.3f}"
