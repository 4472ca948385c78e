"""Pairwise precision and recall of incidents against `eval/incidents/labelled.jsonl`.

The labelled reports go through what the workers run, in order of arrival: the enricher, the
dedup ledger, the embedder and the incident rule (`InMemoryIncidents`, exact neighbours where
the workers use Elasticsearch's kNN). `sweep` scores a range of thresholds in one pass over the
models, which is how `IncidentParams.threshold` was chosen.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.dedup.keys import DedupParams, report_key, report_keys
from pipeline.enrich.dedup.ledger import Ledger
from pipeline.enrich.incidents.decide import IncidentParams, InMemoryIncidents, Vector
from pipeline.enrich.incidents.traces import Trace, trace_of
from pipeline.enrich.pairs import PairScore, pair_score
from pipeline.enrich.step import Enriches
from pipeline.ingest.report import Origin, Report, ReportLocation
from pipeline.ingest.sources import TOPIC_BY_SOURCE, Source

__all__ = ["DEFAULT_LABELS", "Prepared", "describe", "load_labelled", "prepare", "score", "sweep"]

DEFAULT_LABELS = Path(__file__).resolve().parents[3] / "eval" / "incidents" / "labelled.jsonl"


@dataclass(frozen=True, slots=True)
class Labelled:
    """One report of the labelled set and the incident a person put it in."""

    incident: str
    report: Report


@dataclass(frozen=True, slots=True)
class Prepared:
    """The labelled set after the models, in arrival order: all the rule needs."""

    labels: tuple[str, ...]
    ids: tuple[str, ...]
    traces: tuple[Trace, ...]
    vectors: tuple[Vector | None, ...]
    clusters: tuple[ClusterAssignment, ...]


def load_labelled(path: Path = DEFAULT_LABELS) -> list[Labelled]:
    """Read `{"incident", "id", "source", "received_at", "text", "url", "location"}` lines."""
    rows: list[Labelled] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        row = json.loads(line)
        source = Source(row["source"])
        location = row.get("location")
        report = Report(
            source=source,
            source_id=row["id"],
            received_at=datetime.fromisoformat(row["received_at"]),
            text=row["text"],
            url=row.get("url"),
            location=ReportLocation(**location) if location else None,
            origin=Origin(topic=TOPIC_BY_SOURCE[source], partition=0, offset=number),
        )
        rows.append(Labelled(incident=row["incident"], report=report))
    return rows


class Embeds(Protocol):
    """What the rule needs of the embedder (pipeline.enrich.embed.Embedder)."""

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


def prepare(labelled: Sequence[Labelled], enricher: Enriches, embedder: Embeds) -> Prepared:
    """Enrich, cluster and embed the labelled reports in order of arrival (the slow part)."""
    rows = sorted(labelled, key=lambda row: (row.report.received_at, row.report.source_id))
    reports = [row.report for row in rows]
    enrichments = enricher.enrich(reports)
    params = DedupParams()
    ledger = Ledger(params.threshold)
    clusters = [ledger.assign(report_keys(report, params)) for report in reports]
    pairs = [
        trace_of(report_key(r.source.value, r.source_id), r, e)
        for r, e in zip(reports, enrichments, strict=True)
    ]
    traces = [trace for trace, _ in pairs]
    wanted = [i for i, c in enumerate(clusters) if not c.duplicate]
    embedded = embedder.embed([pairs[i][1] for i in wanted])
    vectors: list[Vector | None] = [None] * len(rows)
    for i, vector in zip(wanted, embedded, strict=True):
        vectors[i] = np.asarray(vector, dtype=np.float32)
    return Prepared(
        labels=tuple(row.incident for row in rows),
        ids=tuple(r.source_id for r in reports),
        traces=tuple(traces),
        vectors=tuple(vectors),
        clusters=tuple(clusters),
    )


def score(prepared: Prepared, params: IncidentParams | None = None) -> PairScore:
    """The rule over the prepared set, scored pair by pair."""
    found = InMemoryIncidents(params).assign(prepared.traces, prepared.vectors, prepared.clusters)
    return pair_score(prepared.ids, prepared.labels, [a.incident_id for a in found])


def sweep(
    prepared: Prepared, thresholds: Iterable[float], params: IncidentParams | None = None
) -> list[tuple[float, PairScore]]:
    """`score` at each threshold, the other knobs as in `params`."""
    base = params or IncidentParams()
    return [(t, score(prepared, replace(base, threshold=t))) for t in thresholds]


def describe(result: PairScore, params: IncidentParams) -> Iterable[str]:
    """Lines `pipeline incidents eval` prints."""
    yield (
        f"reports={result.reports} labelled_incidents={result.gold_clusters} "
        f"found_incidents={result.found_clusters} threshold={params.threshold:.2f} "
        f"window={params.window_s / 3600:.0f}h"
    )
    yield (
        f"pairs: true={result.true_pairs} false={len(result.false_pairs)} "
        f"missed={len(result.missed_pairs)}"
    )
    yield f"pairwise precision={result.precision:.3f} recall={result.recall:.3f}"
