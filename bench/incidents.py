"""kNN incident assignment: latency with 10k and 200k reports of state, and size per report.

Run: .venv/bin/python -m bench.incidents [--sizes 10000 200000] [--queries 300]

For each size, a throw-away incident state index (`pipeline.enrich.incidents.state`, the
workers' own template: int8 HNSW, dot product) is filled with that many reports spread over
60 days, then `state.neighbours` (the one call a batch makes to find its reports' neighbours:
kNN of k=10 within the 72 h window) is timed one report at a time, as a worker of one report
per batch would, after the index is refreshed and warm. Vectors are synthetic: unit vectors
scattered around one centre per incident of ~5 reports (real embeddings cost 18 ms each; 200k
of them would take an hour), which gives HNSW the same clustered structure real reports have.
Targets: p95 <= 10 ms at 200k, and <= 3x the 10k figure. Size on disk is the index's store
size over its documents after a refresh (segments not merged: what a live index holds).
"""

from __future__ import annotations

import argparse
import time

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


def _vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.standard_normal((max(1, n // 5), DIMS)).astype(np.float32)
    picks = rng.integers(0, len(centres), n)
    vectors = centres[picks] + 0.6 * rng.standard_normal((n, DIMS)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def fill(es: Elasticsearch, index: str, n: int, rng: np.random.Generator) -> None:
    """`n` state documents, in bulk, spread over 60 days."""
    start = 1_767_225_600.0  # 2026-01-01
    done = 0
    for offset in range(0, n, 20_000):
        count = min(20_000, n - offset)
        vectors = _vectors(count, rng)
        times = start + rng.random(count) * 60 * DAY_S
        actions = (
            {
                "_index": index,
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
        progress(f"{index}: {done}/{n} reports of state written")
    es.indices.refresh(index=index, request_timeout=600)


def measure(es: Elasticsearch, index: str, queries: int, rng: np.random.Generator) -> list[float]:
    """Milliseconds of each `state.neighbours` call, one report at a time (after a warm-up)."""
    start = 1_767_225_600.0
    vectors = _vectors(queries + 20, rng)
    times = start + rng.random(queries + 20) * 60 * DAY_S
    took: list[float] = []
    for i in range(queries + 20):
        trace = Trace(f"q{i}", float(times[i]), frozenset(), frozenset())
        begin = time.perf_counter()
        state.neighbours(es, index, [(trace, vectors[i])], k=10, window_s=WINDOW_S)
        if i >= 20:  # the first queries load the graph
            took.append((time.perf_counter() - begin) * 1000)
    return took


def segments(es: Elasticsearch, index: str) -> int:
    stats = es.indices.stats(index=index, metric="segments")["indices"][index]["primaries"]
    return int(stats["segments"]["count"])


def size_per_report(es: Elasticsearch, index: str) -> float:
    stats = es.indices.stats(index=index, metric="store,docs")["indices"][index]["primaries"]
    return stats["store"]["size_in_bytes"] / max(1, stats["docs"]["count"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 200_000])
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    settings = get_settings()
    es = elasticsearch_client(settings).options(request_timeout=120)
    rng = np.random.default_rng(3)
    rows: list[tuple[int, int, float, float, float]] = []
    for size in args.sizes:
        index = state.state_index(unique_name("bench-incidents"))
        state.ensure_state(es, index)
        try:
            fill(es, index, size, rng)
            for merged in (False, True):
                if merged:  # what the index's own merges head for over time, done at once
                    es.indices.forcemerge(index=index, max_num_segments=1, request_timeout=1800)
                    es.indices.refresh(index=index)
                took = measure(es, index, args.queries, rng)
                p50, p95 = percentile(took, 50), percentile(took, 95)
                assert p50 is not None and p95 is not None
                rows.append((size, segments(es, index), p50, p95, size_per_report(es, index)))
        finally:
            es.indices.delete(index=index, ignore_unavailable=True)
            es.indices.delete_index_template(name=index, ignore=[404])
    print("kNN incident assignment (one report per call, k=10, 72 h window, int8 HNSW)")
    head = f"{'reports of state':>16}  {'segments':>8}  {'p50 ms':>8}  {'p95 ms':>8}"
    print(f"{head}  {'bytes/report':>12}")
    for size, count, p50, p95, per in rows:
        print(f"{size:>16}  {count:>8}  {p50:>8.2f}  {p95:>8.2f}  {per:>12.0f}")
    for label, pick in (("as written", 0), ("merged", 1)):
        chosen = [row for i, row in enumerate(rows) if i % 2 == pick]
        if len(chosen) < 2:
            continue
        (_, _, _, small, _), (big_n, _, _, big, _) = chosen[0], chosen[-1]
        verdict = "PASS" if big <= 10 else "FAIL"
        print(f"{label}: p95 at {big_n} {big:.2f} ms (target <= 10) {verdict}, ", end="")
        ratio = big / small
        within = "PASS" if ratio <= 3 else "FAIL"
        print(f"{ratio:.2f}x the {chosen[0][0]} figure (target <= 3x) {within}")


if __name__ == "__main__":
    main()
