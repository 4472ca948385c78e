"""The incident rule: join the incident of the most alike earlier report, or open one.

A report's *affinity* to an earlier one is the cosine of their vectors plus what they share:
a strong selector (the same phone, vehicle, email, URL or handle) or a place, less when both
name a region and the regions differ. Only reports within `window_s` of each other count. The
report joins the incident of its best neighbour when that affinity reaches `threshold`, else
it opens an incident of its own, named after itself. The rule is pure: the same neighbours give
the same answer, which is what lets two workers (under one lease) and a replay agree.

`InMemoryIncidents` runs the rule over a whole stream with exact neighbours (the evaluation and
the tests); `pipeline.enrich.incidents.assigner` runs it over Elasticsearch's kNN.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.incidents.traces import Trace

__all__ = [
    "InMemoryIncidents",
    "IncidentAssignment",
    "IncidentParams",
    "Neighbour",
    "affinity",
    "choose",
    "incident_id_for",
]

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class IncidentParams:
    """The rule's knobs; the defaults are calibrated on `eval/incidents/labelled.jsonl`
    (`pipeline incidents eval --sweep` prints the threshold curve) for the SIF vectors of
    `pipeline.enrich.embed`, whose cosines sit higher than a transformer's: both targets hold
    from 0.75 to 0.78. In a grid over the bonuses (place 0-0.15, selector 0.10-0.35, region
    0-0.25, thresholds 0.60-0.90) no point widened that band; the selector bonus and the
    region penalty moved recall by 0.002 at most, while the place bonus carries weight: at 0
    no threshold meets both targets (best P/R 0.906/0.783), from 0.10 up both hold."""

    window_s: float = 72 * 3600.0
    threshold: float = 0.76
    selector_bonus: float = 0.25
    place_bonus: float = 0.15
    region_penalty: float = 0.15
    neighbours: int = 10  # k of the kNN: the best few are all the rule looks at


@dataclass(frozen=True, slots=True)
class Neighbour:
    """An earlier report as the rule sees it: its trace, incident and cosine to the new one."""

    trace: Trace
    incident: str
    similarity: float


@dataclass(frozen=True, slots=True)
class IncidentAssignment:
    """`opened` is True for the report that opened the incident (its id is then the report's)."""

    incident_id: str
    opened: bool


def incident_id_for(key: str) -> str:
    """The id of the incident a report opens: its own dedup key, so a replay names it again."""
    return key


def affinity(report: Trace, other: Trace, similarity: float, params: IncidentParams) -> float:
    """How alike two reports are for the rule; -inf when they are too far apart in time."""
    if abs(report.at - other.at) > params.window_s:
        return float("-inf")
    score = similarity
    if report.selectors & other.selectors:
        score += params.selector_bonus
    if report.places & other.places:
        score += params.place_bonus
    if report.region and other.region and report.region != other.region:
        score -= params.region_penalty
    return score


def choose(report: Trace, neighbours: Iterable[Neighbour], params: IncidentParams) -> str | None:
    """The incident `report` joins, or None when no neighbour is alike enough.

    The best affinity wins; equal affinities go to the earlier neighbour, then the smaller
    incident id, so the answer never depends on the order neighbours arrive in."""
    best: tuple[float, float, str] | None = None
    for n in neighbours:
        score = affinity(report, n.trace, n.similarity, params)
        if score < params.threshold:
            continue
        rank = (-score, n.trace.at, n.incident)
        if best is None or rank < best:
            best = rank
    return best[2] if best is not None else None


class InMemoryIncidents:
    """The rule over a stream held in memory, with exact neighbours: what the workers would
    decide given reports in this order (evaluation, calibration and tests).

    A near-duplicate (`cluster.duplicate`) joins the incident of its cluster's first report and
    adds no vector: a cluster lies inside one incident (contract §2)."""

    def __init__(self, params: IncidentParams | None = None) -> None:
        self.params = params or IncidentParams()
        self._traces: list[Trace] = []
        self._incidents: list[str] = []
        self._vectors: list[Vector] = []
        self._by_report: dict[str, str] = {}

    def assign(
        self,
        traces: Sequence[Trace],
        vectors: Sequence[Vector | None],
        clusters: Sequence[ClusterAssignment | None],
    ) -> list[IncidentAssignment]:
        """Assign each report in order, each seeing all before it; a duplicate's vector may be
        None (it is not read)."""
        out = []
        for trace, vector, cluster in zip(traces, vectors, clusters, strict=True):
            opener = self._by_report.get(cluster.cluster_id) if cluster else None
            if cluster is not None and cluster.duplicate and opener is not None:
                assignment = IncidentAssignment(opener, opened=False)
            else:
                if vector is None:
                    raise ValueError(f"report {trace.key} needs a vector")
                joined = choose(trace, self.neighbours(trace, vector), self.params)
                assignment = IncidentAssignment(
                    joined or incident_id_for(trace.key), opened=joined is None
                )
                self._traces.append(trace)
                self._incidents.append(assignment.incident_id)
                self._vectors.append(vector)
            self._by_report[trace.key] = assignment.incident_id
            out.append(assignment)
        return out

    def neighbours(self, trace: Trace, vector: Vector) -> list[Neighbour]:
        """The `params.neighbours` most similar earlier reports within the window."""
        if not self._traces:
            return []
        sims = np.stack(self._vectors) @ vector
        near = [
            i for i, t in enumerate(self._traces) if abs(t.at - trace.at) <= self.params.window_s
        ]
        near.sort(key=lambda i: (-float(sims[i]), i))
        return [
            Neighbour(self._traces[i], self._incidents[i], float(sims[i]))
            for i in near[: self.params.neighbours]
        ]
