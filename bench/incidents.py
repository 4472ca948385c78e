"""kNN incident assignment: latency with 10k and 200k reports of state, and size per report.

Run: .venv/bin/python -m bench.incidents [--sizes 10000 200000] [--queries 300]
         [--layouts weekly one]

For each size and layout, a throw-away incident state (`pipeline.enrich.incidents.state`, the
workers' own template: int8 HNSW, dot product) is filled with that many reports spread over
60 days, then the kNN a batch makes to find a report's neighbours (k=10 within the 72 h window)
is timed one report at a time, as a worker of one report per batch would, after a refresh and
warm-up; then again after merging every index to one segment.

  weekly  the workers' layout: one index per ISO week; each search reads the one or two weeks
          its window touches (`state.neighbours`)
  one     every report in one index, the layout before weekly partitions: the same search
          body over all of it, for the side-by-side

Vectors are synthetic: unit vectors scattered around one centre per incident of ~5 reports,
which gives HNSW the clustered structure real reports have (the workers' vectors cost 0.03 ms
each, but 200k reports' enrichment would take an hour). Targets: p95 <= 10 ms at 200k, and
<= 3x the 10k figure. Size on disk is the store size over the documents after a refresh
(segments not merged: what a live index holds).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from elasticsearch import Elasticsearch, helpers

from bench.common import percentile, progress, unique_name
from pipeline.clients import elasticsearch_client
from pipeline.enrich.embed import DIMS
from pipeline.enrich.incidents import state
from pipeline.enrich.incidents.traces import Trace
from pipeline.settings import get_settings

DAY_S = 86_400.0
WINDOW_S = 72 * 3600.0
START = 1_767_225_600.0  # 2026-01-01
LAYOUTS = ("weekly", "one")


def _vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.standard_normal((max(1, n // 5), DIMS)).astype(np.float32)
    picks = rng.integers(0, len(centres), n)
    vectors = centres[picks] + 0.6 * rng.standard_normal((n, DIMS)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def fill(es: Elasticsearch, alias: str, layout: str, n: int, rng: np.random.Generator) -> None:
    """`n` state documents, in bulk, spread over 60 days, into the layout's indices."""
    one = f"{state.partitions(alias)[:-1]}all"
    done = 0
    for offset in range(0, n, 20_000):
        count = min(20_000, n - offset)
        vectors = _vectors(count, rng)
        times = START + rng.random(count) * 60 * DAY_S
        actions = (
            {
                "_index": state.partition(alias, float(times[i])) if layout == "weekly" else one,
                "_id": f"r{offset + i}",
                "_source": state.state_doc(
                    Trace(f"r{offset + i}", float(times[i]), frozenset(), frozenset()),
                    f"inc{(offset + i) // 5}",
                    doc=f"d{offset + i}",
                    source="public_report",
                    cluster=f"r{offset + i}",
                    vector=vectors[i],
                ),
            }
            for i in range(count)
        )
        helpers.bulk(es, actions, chunk_size=1000, request_timeout=300)
        done += count
        progress(f"{alias} ({layout}): {done}/{n} reports of state written")
    es.options(request_timeout=600).indices.refresh(index=state.partitions(alias))


def searcher(es: Elasticsearch, alias: str, layout: str) -> Callable[[Trace, np.ndarray], None]:
    """One report's neighbour search in the layout."""
    one = f"{state.partitions(alias)[:-1]}all"

    def weekly(trace: Trace, vector: np.ndarray) -> None:
        state.neighbours(es, alias, [(trace, vector)], k=10, window_s=WINDOW_S)

    def single(trace: Trace, vector: np.ndarray) -> None:
        es.msearch(searches=[{"index": one}, state.knn_body(trace, vector, 10, WINDOW_S)])

    return weekly if layout == "weekly" else single


def measure(search: Callable[[Trace, np.ndarray], None], queries: int, seed: int) -> list[float]:
    """Milliseconds of each search, one report at a time (after a warm-up)."""
    rng = np.random.default_rng(seed)  # the same queries for every layout
    vectors = _vectors(queries + 20, rng)
    times = START + rng.random(queries + 20) * 60 * DAY_S
    took: list[float] = []
    for i in range(queries + 20):
        trace = Trace(f"q{i}", float(times[i]), frozenset(), frozenset())
        begin = time.perf_counter()
        search(trace, vectors[i])
        if i >= 20:  # the first queries load the graphs
            took.append((time.perf_counter() - begin) * 1000)
    return took


def _stats(es: Elasticsearch, alias: str) -> tuple[int, int, float]:
    """(indices, segments, bytes per report) over the state's indices."""
    found = es.indices.stats(index=state.partitions(alias), metric="segments,store,docs")
    per = found["indices"].values()
    segments = sum(int(i["primaries"]["segments"]["count"]) for i in per)
    size = sum(int(i["primaries"]["store"]["size_in_bytes"]) for i in per)
    docs = sum(int(i["primaries"]["docs"]["count"]) for i in per)
    return len(found["indices"]), segments, size / max(1, docs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 200_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--layouts", nargs="+", choices=LAYOUTS, default=list(LAYOUTS))
    args = parser.parse_args()
    es = elasticsearch_client(get_settings()).options(request_timeout=120)
    rng = np.random.default_rng(3)
    rows: list[tuple[str, int, bool, int, int, float, float, float]] = []
    for layout in args.layouts:
        for size in args.sizes:
            alias = unique_name("bench-incidents")
            state.ensure_state(es, alias)
            try:
                fill(es, alias, layout, size, rng)
                for merged in (False, True):
                    if merged:  # what the indices' own merges head for over time, done at once
                        es.options(request_timeout=1800).indices.forcemerge(
                            index=state.partitions(alias), max_num_segments=1
                        )
                        es.indices.refresh(index=state.partitions(alias))
                    took = measure(searcher(es, alias, layout), args.queries, seed=size)
                    p50, p95 = percentile(took, 50), percentile(took, 95)
                    assert p50 is not None and p95 is not None
                    indices, segments, per = _stats(es, alias)
                    rows.append((layout, size, merged, indices, segments, p50, p95, per))
            finally:
                es.indices.delete(index=state.partitions(alias), ignore_unavailable=True)
                es.indices.delete(index=state.state_index(alias), ignore_unavailable=True)
                es.indices.delete_index_template(name=state.state_index(alias), ignore=[404])
    print("kNN incident assignment (one report per call, k=10, 72 h window, int8 HNSW)")
    print(
        f"{'layout':>7}  {'reports of state':>16}  {'merged':>6}  {'indices':>7}  "
        f"{'segments':>8}  {'p50 ms':>8}  {'p95 ms':>8}  {'bytes/report':>12}"
    )
    for layout, size, merged, indices, segments, p50, p95, per in rows:
        print(
            f"{layout:>7}  {size:>16}  {'yes' if merged else 'no':>6}  {indices:>7}  "
            f"{segments:>8}  {p50:>8.2f}  {p95:>8.2f}  {per:>12.0f}"
        )
    for layout in args.layouts:
        for merged in (False, True):
            chosen = [r for r in rows if r[0] == layout and r[2] == merged]
            if len(chosen) < 2:
                continue
            small, big = chosen[0], chosen[-1]
            label = f"{layout}, {'merged' if merged else 'as written'}"
            verdict = "PASS" if big[6] <= 10 else "FAIL"
            ratio = big[6] / small[6]
            within = "PASS" if ratio <= 3 else "FAIL"
            print(
                f"{label}: p95 at {big[1]} {big[6]:.2f} ms (target <= 10) {verdict}, "
                f"{ratio:.2f}x the {small[1]} figure (target <= 3x) {within}"
            )


if __name__ == "__main__":
    main()
