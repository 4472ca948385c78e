"""The incident rule as pure functions: affinity, the choice among neighbours, a whole stream."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.incidents.decide import (
    IncidentParams,
    InMemoryIncidents,
    Neighbour,
    affinity,
    choose,
)
from pipeline.enrich.incidents.traces import Trace

PARAMS = IncidentParams(threshold=0.6, selector_bonus=0.25, place_bonus=0.1, region_penalty=0.15)
HOUR = 3600.0


def trace(key: str, at_h: float = 0.0, places=(), selectors=(), region=None) -> Trace:
    return Trace(key, at_h * HOUR, frozenset(places), frozenset(selectors), region)


def test_affinity_adds_shared_selectors_and_places_and_takes_off_other_regions() -> None:
    a = trace("a", places={"euston"}, selectors={"phone:+447700900123"}, region="London")
    assert affinity(a, trace("b"), 0.5, PARAMS) == 0.5
    assert affinity(a, trace("b", places={"euston"}), 0.5, PARAMS) == 0.6
    assert affinity(a, trace("b", selectors={"phone:+447700900123"}), 0.5, PARAMS) == 0.75
    assert affinity(a, trace("b", region="North West"), 0.5, PARAMS) == 0.35
    assert affinity(a, trace("b", region="London"), 0.5, PARAMS) == 0.5


def test_reports_outside_the_window_never_join() -> None:
    a = trace("a", at_h=0)
    assert affinity(a, trace("b", at_h=72), 0.99, PARAMS) == 0.99
    assert affinity(a, trace("b", at_h=72.01), 0.99, PARAMS) == float("-inf")
    assert choose(a, [Neighbour(trace("b", at_h=-73), "inc-b", 0.99)], PARAMS) is None


def test_the_best_neighbour_above_the_threshold_wins() -> None:
    a = trace("a", places={"euston"})
    near = [
        Neighbour(trace("b"), "inc-b", 0.55),  # below
        Neighbour(trace("c"), "inc-c", 0.65),
        Neighbour(trace("d", places={"euston"}), "inc-d", 0.60),  # 0.70 with the place
    ]
    assert choose(a, near, PARAMS) == "inc-d"
    assert choose(a, near[:1], PARAMS) is None


@given(st.permutations(range(5)), st.lists(st.floats(0.0, 1.0), min_size=5, max_size=5))
def test_the_choice_does_not_depend_on_the_order_neighbours_come_in(
    order: list[int], sims: list[float]
) -> None:
    neighbours = [Neighbour(trace(f"n{i}", at_h=i), f"inc-{i % 3}", s) for i, s in enumerate(sims)]
    shuffled = [neighbours[i] for i in order]
    assert choose(trace("a"), shuffled, PARAMS) == choose(trace("a"), neighbours, PARAMS)


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_a_stream_joins_alike_reports_opens_others_and_keeps_clusters_whole() -> None:
    rule = InMemoryIncidents(PARAMS)
    traces = [trace("r1", 0), trace("r2", 1), trace("r3", 2), trace("r4", 3), trace("r5", 100)]
    vectors = [_unit(1, 0, 0), _unit(0.95, 0.3, 0), _unit(0, 0, 1), None, _unit(1, 0, 0)]
    clusters = [
        ClusterAssignment("r1", False),
        ClusterAssignment("r2", False),
        ClusterAssignment("r3", False),
        ClusterAssignment("r2", True),  # a near-copy of r2: joins r2's incident, no vector read
        ClusterAssignment("r5", False),  # like r1 but four days later
    ]
    found = rule.assign(traces, vectors, clusters)
    assert [a.incident_id for a in found] == ["r1", "r1", "r3", "r1", "r5"]
    assert [a.opened for a in found] == [True, False, True, False, True]
