"""Incident assignment for a batch against the state every worker shares in Elasticsearch.

The slow part, the vectors, is made before the lease: the batch's own state is read first, so
a replayed report (its answer stored) and a near-duplicate whose cluster already has an incident
are never embedded. Under the lease (the dedup lock's mechanism on `<alias>-incidents`) the
batch is read again, the kNN neighbours of the rest are fetched in one `msearch` (each from the
weeks its window touches), the rule (`pipeline.enrich.incidents.decide`) decides each report in
batch order, seeing the batch's earlier reports as well, and the answers are created in their
weeks' indices (never overwritten) and refreshed, so the next batch of any worker finds them.
Two workers thus decide as one would, taking the batches in lock order; a replay gets the
stored answers back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from elasticsearch import Elasticsearch

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.dedup import state as lease
from pipeline.enrich.dedup.keys import report_key
from pipeline.enrich.incidents import state
from pipeline.enrich.incidents.corrections import Corrections, CorrectionStatus
from pipeline.enrich.incidents.decide import (
    IncidentAssignment,
    IncidentParams,
    Neighbour,
    Vector,
    choose,
    incident_id_for,
)
from pipeline.enrich.incidents.traces import Trace, trace_of
from pipeline.enrich.mentions import Enrichment
from pipeline.errors import SinkBackpressure, Unavailability, map_es_errors
from pipeline.index.document import doc_id
from pipeline.ingest.report import Report
from pipeline.settings import Settings

__all__ = ["CORRECTIONS_EVERY_S", "Embeds", "IncidentAssigner"]

CORRECTIONS_EVERY_S = 2.0  # how often a busy worker looks for analysts' corrections


class Embeds(Protocol):
    """What assignment needs of the embedder (pipeline.enrich.embed.Embedder)."""

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


class _Batch:
    """One batch on its way through assignment: traces, texts, what is known and decided."""

    def __init__(
        self,
        reports: Sequence[Report],
        enrichments: Sequence[Enrichment],
        clusters: Sequence[ClusterAssignment],
    ) -> None:
        self.reports = reports
        self.clusters = clusters
        self.keys = [report_key(r.source.value, r.source_id) for r in reports]
        self.first: dict[str, int] = {}  # where each key first stands in the batch
        for i, key in enumerate(self.keys):
            self.first.setdefault(key, i)
        pairs = [
            trace_of(key, r, e) for key, r, e in zip(self.keys, reports, enrichments, strict=True)
        ]
        self.traces = [trace for trace, _ in pairs]
        self.texts = [text for _, text in pairs]
        self.vectors: list[Vector | None] = [None] * len(reports)

    def ids(self) -> list[str]:
        """The state documents the batch reads: its own and its clusters' first reports."""
        return sorted(set(self.keys) | {c.cluster_id for c in self.clusters if c.duplicate})


class IncidentAssigner:
    """Gives each report an `IncidentAssignment`; every worker shares one state index."""

    def __init__(
        self,
        es: Elasticsearch,
        settings: Settings,
        embedder: Embeds,
        params: IncidentParams | None = None,
        *,
        corrections: Corrections | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.es = es
        self.corrections = corrections
        self._clock = clock
        self._looked: float | None = None
        self.embedder = embedder
        self.params = params or IncidentParams(window_s=settings.incident_window_h * 3600.0)
        self.alias = settings.index_alias
        self.index = state.state_index(settings.index_alias)  # the lease's
        self.lock_ttl_s = settings.dedup_lock_ttl_s
        self.lock_wait_s = settings.dedup_lock_wait_s

    def ensure(self) -> None:
        """Create the state index and its template if missing (idempotent)."""
        with map_es_errors("ensure incident state"):
            state.ensure_state(self.es, self.alias)
        if self.corrections is not None:
            self.corrections.ensure()

    def apply_corrections(self, *, now: bool = False) -> int:
        """Apply analysts' pending corrections (at most every CORRECTIONS_EVERY_S unless
        `now`), oldest first, under the lease; how many were applied."""
        if self.corrections is None:
            return 0
        recent = self._looked is not None and self._clock() - self._looked < CORRECTIONS_EVERY_S
        if recent and not now:
            return 0
        self._looked = self._clock()
        pending = self.corrections.pending()
        if not pending:
            return 0
        done = 0
        with (
            map_es_errors("apply incident corrections"),
            lease.locked(self.es, self.index, self.lock_ttl_s, self.lock_wait_s),
        ):
            for correction in pending:
                current = self.corrections.get(correction.id)
                if current is not None and current.status is CorrectionStatus.PENDING:
                    self.corrections.apply(current)  # another worker may have done it first
                    done += 1
        return done

    def assign(
        self,
        reports: Sequence[Report],
        enrichments: Sequence[Enrichment],
        clusters: Sequence[ClusterAssignment],
    ) -> list[IncidentAssignment]:
        """One assignment per report, in order; the same batch again gets the same answers.
        Analysts' pending corrections are applied first (an empty batch only applies them)."""
        self.apply_corrections()
        if not reports:
            return []
        batch = _Batch(reports, enrichments, clusters)
        with map_es_errors("incident assign"):
            self._embed(batch, state.fetch(self.es, self.alias, batch.ids()))
            with lease.locked(self.es, self.index, self.lock_ttl_s, self.lock_wait_s) as held:
                known = state.fetch(self.es, self.alias, batch.ids())
                self._embed(batch, known)  # only what appeared or vanished meanwhile
                answers, docs = self._decide(batch, known)
                if held.expired():
                    raise SinkBackpressure(
                        "incident lease expired before writing; retry the batch",
                        reason=Unavailability.LOCK_BUSY,
                    )
                taken = state.write(self.es, self.alias, docs)
                if taken:  # someone answered for these first: theirs is the answer
                    stored = state.fetch(self.es, self.alias, taken)
                    answers = [
                        _answer(key, stored[key]) if key in stored else a
                        for key, a in zip(batch.keys, answers, strict=True)
                    ]
        return answers

    def _needs_vector(self, batch: _Batch, i: int, known: Mapping[str, Any]) -> bool:
        if batch.keys[i] in known:
            return False
        cluster = batch.clusters[i]
        return not (
            cluster.duplicate
            and (cluster.cluster_id in known or batch.first.get(cluster.cluster_id, i) < i)
        )

    def _embed(self, batch: _Batch, known: Mapping[str, Any]) -> None:
        wanted = [
            i
            for i in range(len(batch.keys))
            if batch.vectors[i] is None and self._needs_vector(batch, i, known)
        ]
        if wanted:
            vectors = self.embedder.embed([batch.texts[i] for i in wanted])
            for i, vector in zip(wanted, vectors, strict=True):
                batch.vectors[i] = np.asarray(vector, dtype=np.float32)

    def _decide(
        self, batch: _Batch, known: Mapping[str, Any]
    ) -> tuple[list[IncidentAssignment], dict[str, dict[str, Any]]]:
        searched = [
            i
            for i in range(len(batch.keys))
            if batch.keys[i] not in known and self._needs_vector(batch, i, known)
        ]
        found = state.neighbours(
            self.es,
            self.alias,
            [(batch.traces[i], _vector(batch, i)) for i in searched],
            k=self.params.neighbours,
            window_s=self.params.window_s,
        )
        stored = dict(zip(searched, found, strict=True))
        decided: dict[str, str] = {}  # report key -> incident, this batch
        earlier: list[tuple[Trace, Vector, str]] = []  # this batch's reports with vectors
        answers: list[IncidentAssignment] = []
        docs: dict[str, dict[str, Any]] = {}
        for i, (key, trace, cluster) in enumerate(
            zip(batch.keys, batch.traces, batch.clusters, strict=True)
        ):
            if key in known:
                answers.append(_answer(key, known[key]))
                decided[key] = answers[-1].incident_id
                continue
            if key in decided:  # the same report twice in one batch
                answers.append(IncidentAssignment(decided[key], opened=False))
                continue
            opener = decided.get(cluster.cluster_id) or (
                known[cluster.cluster_id]["incident"] if cluster.cluster_id in known else None
            )
            vector = None
            if cluster.duplicate and opener is not None:
                answer = IncidentAssignment(opener, opened=False)
            else:
                vector = _vector(batch, i)
                near = [*stored.get(i, []), *_in_batch(earlier, vector)]
                joined = choose(trace, near, self.params)
                answer = IncidentAssignment(joined or incident_id_for(key), opened=joined is None)
                earlier.append((trace, vector, answer.incident_id))
            answers.append(answer)
            decided[key] = answer.incident_id
            docs[key] = state.state_doc(
                trace,
                answer.incident_id,
                doc=doc_id(batch.reports[i].source.value, batch.reports[i].source_id),
                source=batch.reports[i].source.value,
                cluster=cluster.cluster_id,
                vector=vector,
            )
        return answers, docs


def _vector(batch: _Batch, i: int) -> Vector:
    vector = batch.vectors[i]
    if vector is None:
        raise RuntimeError(f"report {batch.keys[i]} was not embedded")
    return vector


def _in_batch(earlier: Sequence[tuple[Trace, Vector, str]], vector: Vector) -> list[Neighbour]:
    return [Neighbour(t, incident, float(v @ vector)) for t, v, incident in earlier]


def _answer(key: str, source: Mapping[str, Any]) -> IncidentAssignment:
    incident = str(source["incident"])
    return IncidentAssignment(incident, opened=incident == incident_id_for(key))
