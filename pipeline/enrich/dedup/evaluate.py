"""Pairwise precision and recall of the clustering against a labelled set of reports."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.dedup.keys import DedupParams, report_keys
from pipeline.enrich.dedup.ledger import Ledger
from pipeline.enrich.mentions import Enrichment
from pipeline.ingest.report import Origin, Report
from pipeline.ingest.sources import TOPIC_BY_SOURCE, Source

DEFAULT_LABELS = Path(__file__).resolve().parents[3] / "eval" / "clusters" / "labelled.jsonl"

Assigner = Callable[[Sequence[Report], Sequence[Enrichment]], list[ClusterAssignment]]


@dataclass(frozen=True, slots=True)
class Labelled:
    """One report of the labelled set and the story (`cluster`) a person put it in."""

    cluster: str
    report: Report


@dataclass(frozen=True, slots=True)
class PairScore:
    """Counts over all pairs of reports: same story (gold) against same cluster (found)."""

    reports: int
    gold_clusters: int
    found_clusters: int
    true_pairs: int
    false_pairs: tuple[tuple[str, str], ...]
    missed_pairs: tuple[tuple[str, str], ...]

    @property
    def precision(self) -> float:
        """Share of pairs put together that belong together."""
        together = self.true_pairs + len(self.false_pairs)
        return self.true_pairs / together if together else 1.0

    @property
    def recall(self) -> float:
        """Share of pairs that belong together and were put together."""
        belong = self.true_pairs + len(self.missed_pairs)
        return self.true_pairs / belong if belong else 1.0


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
    true_pairs = 0
    false_pairs: list[tuple[str, str]] = []
    missed_pairs: list[tuple[str, str]] = []
    for (left, left_found), (right, right_found) in itertools.combinations(
        zip(labelled, found, strict=True), 2
    ):
        same_gold = left.cluster == right.cluster
        same_found = left_found.cluster_id == right_found.cluster_id
        pair = (left.report.source_id, right.report.source_id)
        if same_gold and same_found:
            true_pairs += 1
        elif same_found:
            false_pairs.append(pair)
        elif same_gold:
            missed_pairs.append(pair)
    return PairScore(
        reports=len(labelled),
        gold_clusters=len({row.cluster for row in labelled}),
        found_clusters=len({a.cluster_id for a in found}),
        true_pairs=true_pairs,
        false_pairs=tuple(false_pairs),
        missed_pairs=tuple(missed_pairs),
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
