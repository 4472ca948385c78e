"""The incident state in Elasticsearch: every report's vector, trace and incident, by week.

The state lives in one index per ISO week of the reports' `received_at`, all shared by every
worker, and one small index holding the lease:

    <alias>-incidents-<yyyy>w<ww>   <report key>  {"incident", "doc", "at", "places",
                                                   "selectors", "region", "source", "cluster",
                                                   "vec"?}
    <alias>-incidents               lock          the lease that serialises decisions
                                                  (`pipeline.enrich.dedup.state.locked`)

Why weeks: a report's neighbours are searched within the window (72 h either side), so a kNN
reads the one or two weeks the window touches, never the whole history, and its cost stays
that of a week's reports however much state there is (`python -m bench.incidents`). A week
that no window reaches any more is merged to one segment when the next week opens
(`settle`): fewer, larger HNSW graphs for late reports and semantic search. Reads by report
key search every week (`fetch`): a revised report may arrive in another week than its first
version, and must still find its answer there.

`vec` is the report's sentence vector, a `dense_vector` searched by kNN over quantised HNSW
(`int8_hnsw`, four times smaller than float vectors in memory); a near-duplicate has none (it
joins its cluster's incident and would only crowd the neighbours). Documents are created once
and changed only by analysts' corrections (`pipeline.enrich.incidents.corrections`), so a
replay finds its earlier answer. Every write is refreshed before the lease is let go, so the
next holder's searches see it. The reports index carries only `incident_id`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from pipeline.clients import create_index_if_missing
from pipeline.enrich.dedup.state import (
    create_all,
    ensure_with_template,
    state_failure,
    state_template,
)
from pipeline.enrich.embed import DIMS
from pipeline.enrich.incidents.decide import Neighbour, Vector
from pipeline.enrich.incidents.traces import Trace

__all__ = [
    "TEMPLATE_LAYOUT",
    "ensure_state",
    "fetch",
    "knn_body",
    "locate",
    "neighbours",
    "parse_trace",
    "partition",
    "partitions",
    "partitions_near",
    "settle",
    "state_doc",
    "state_index",
    "write",
]

log = logging.getLogger(__name__)

TEMPLATE_LAYOUT = 2  # 2: weekly partitions, 300-wide vectors
_SOURCE = ["incident", "at", "places", "selectors", "region"]
_IDS_CHUNK = 1_000
_LIVE_WEEKS = 2  # the weeks a new report's window reaches: never merged by `settle`


def state_index(alias: str) -> str:
    """The index of the lease over the incident state of the pipeline whose analysts' alias is
    `alias` (it holds no reports)."""
    return f"{alias}-incidents"


def partitions(alias: str) -> str:
    """The pattern of every week's state index: what searches by key or by meaning read."""
    return f"{state_index(alias)}-*"


def partition(alias: str, at: float) -> str:
    """The state index of the ISO week (UTC) that epoch second `at` falls in."""
    year, week, _ = datetime.fromtimestamp(at, UTC).isocalendar()
    return f"{state_index(alias)}-{year}w{week:02d}"


def partitions_near(alias: str, at: float, window_s: float) -> list[str]:
    """The weeks `[at - window_s, at + window_s]` touches, oldest first (two for 72 h)."""
    moment = datetime.fromtimestamp(at - window_s, UTC)
    end = datetime.fromtimestamp(at + window_s, UTC)
    names: list[str] = []
    while True:
        name = partition(alias, moment.timestamp())
        if name not in names:
            names.append(name)
        if moment >= end:
            return names
        moment = min(end, moment + timedelta(days=1))


# What the state's documents are searched by (the rest of `_source` is only read back).
PROPERTIES: dict[str, Any] = {
    "incident": {"type": "keyword"},
    "doc": {"type": "keyword"},  # the report's document id in the index
    "cluster": {"type": "keyword"},
    "at": {"type": "date", "format": "epoch_millis"},
    "places": {"type": "keyword"},
    "selectors": {"type": "keyword"},
    "region": {"type": "keyword"},
    "source": {"type": "keyword"},
    "vec": {
        "type": "dense_vector",
        "dims": DIMS,
        "index": True,
        "similarity": "dot_product",  # unit vectors: the cosine
        "index_options": {"type": "int8_hnsw"},
    },
}


# Fewer, larger segments in the weeks still being written: a kNN searches every segment's HNSW
# graph, so its cost follows the segment count more than the document count (bench.incidents).
# A week is small (~25k reports, ~90 MB), so merging more eagerly costs little.
MERGE_SETTINGS: dict[str, Any] = {
    "index.merge.policy.segments_per_tier": 4,
    "index.merge.policy.floor_segment": "16mb",
}


def template_body(alias: str) -> dict[str, Any]:
    """Index template for the lease's index and every week's (its priority beats broad
    `<alias>-*` templates)."""
    body = state_template(
        state_index(alias),
        owner="pipeline.enrich.incidents",
        layout=TEMPLATE_LAYOUT,
        properties=PROPERTIES,
    )
    body["index_patterns"] = [state_index(alias), partitions(alias)]
    body["template"]["settings"].update(MERGE_SETTINGS)
    return body


def ensure_state(es: Elasticsearch, alias: str) -> None:
    """Create or update the template, then the lease's index; safe to call from every worker
    (a week's index is created by the first write into it)."""
    ensure_with_template(es, state_index(alias), template_body(alias))


def state_doc(
    trace: Trace,
    incident: str,
    *,
    doc: str,
    source: str,
    cluster: str,
    vector: Vector | None,
) -> dict[str, Any]:
    """The state document of a decided report (`doc`: its document id in the index)."""
    stored: dict[str, Any] = {
        "incident": incident,
        "doc": doc,
        "cluster": cluster,
        "source": source,
        "at": int(trace.at * 1000),
        "places": sorted(trace.places),
        "selectors": sorted(trace.selectors),
    }
    if trace.region is not None:
        stored["region"] = trace.region
    if vector is not None:
        stored["vec"] = [round(float(x), 6) for x in vector]
    return stored


def parse_trace(key: str, source: Mapping[str, Any]) -> Trace:
    """The trace a state document stores."""
    return Trace(
        key=key,
        at=int(source["at"]) / 1000,
        places=frozenset(source.get("places", ())),
        selectors=frozenset(source.get("selectors", ())),
        region=source.get("region"),
    )


def knn_body(trace: Trace, vector: Vector, k: int, window_s: float) -> dict[str, Any]:
    """The search for `trace`'s `k` nearest stored reports within `window_s` of it."""
    at_ms = int(trace.at * 1000)
    window_ms = int(window_s * 1000)
    return {
        "knn": {
            "field": "vec",
            "query_vector": [float(x) for x in vector],
            "k": k,
            "num_candidates": max(50, 5 * k),
            "filter": {"range": {"at": {"gte": at_ms - window_ms, "lte": at_ms + window_ms}}},
        },
        "size": k,
        "_source": _SOURCE,
    }


def neighbours(
    es: Elasticsearch,
    alias: str,
    queries: Sequence[tuple[Trace, Vector]],
    *,
    k: int,
    window_s: float,
) -> list[list[Neighbour]]:
    """Each query's `k` nearest stored reports within `window_s`, one `msearch` for all, each
    search reading only the weeks its window touches (a week not written yet is no error)."""
    if not queries:
        return []
    searches: list[Mapping[str, Any]] = []
    for trace, vector in queries:
        weeks = ",".join(partitions_near(alias, trace.at, window_s))
        header = {"index": weeks, "ignore_unavailable": True, "allow_no_indices": True}
        searches += [header, knn_body(trace, vector, k, window_s)]
    response = es.msearch(searches=searches)
    out: list[list[Neighbour]] = []
    for (trace, _), result in zip(queries, response["responses"], strict=True):
        if "error" in result:
            error = result["error"]
            raise state_failure(f"incident kNN on {partitions(alias)}", result.get("status"), error)
        out.append(
            [
                Neighbour(
                    parse_trace(hit["_id"], hit["_source"]),
                    hit["_source"]["incident"],
                    2 * float(hit["_score"]) - 1,  # dot_product scores (1 + dot) / 2
                )
                for hit in result["hits"]["hits"]
                if hit["_id"] != trace.key
            ]
        )
    return out


def _hits(
    es: Elasticsearch, alias: str, ids: Iterable[str], source: bool
) -> Iterable[Mapping[str, Any]]:
    """The state documents of `ids`, whichever week holds them (a search: it sees what was
    refreshed, which every write under the lease is). A shard that could not answer raises
    `SearchUnavailable`: read as "not found" it would decide a report a second time."""
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), _IDS_CHUNK):
        chunk = wanted[start : start + _IDS_CHUNK]
        response = es.search(
            index=partitions(alias),
            query={"ids": {"values": chunk}},
            size=len(chunk),
            source=source,
            ignore_unavailable=True,
            allow_no_indices=True,
        )
        shards = response.get("_shards", {})
        if shards.get("failed"):
            failure = (shards.get("failures") or [{}])[0]
            raise state_failure(
                f"incident state read of {partitions(alias)}",
                failure.get("status"),
                failure.get("reason"),
            )
        yield from response["hits"]["hits"]


def fetch(es: Elasticsearch, alias: str, ids: Iterable[str]) -> dict[str, Mapping[str, Any]]:
    """`_source` of every stored report among `ids` (report keys), from any week."""
    return {hit["_id"]: hit["_source"] for hit in _hits(es, alias, ids, source=True)}


def locate(es: Elasticsearch, alias: str, ids: Iterable[str]) -> dict[str, str]:
    """The week's index that holds each stored report among `ids`."""
    return {hit["_id"]: hit["_index"] for hit in _hits(es, alias, ids, source=False)}


def write(es: Elasticsearch, alias: str, docs: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """Create each decided report's document in its week's index (created, and older weeks
    settled, on first use), never overwriting one; refresh what was written; return the keys
    already stored there (someone decided them first)."""
    weeks: dict[str, dict[str, Mapping[str, Any]]] = {}
    for key, doc in docs.items():
        weeks.setdefault(partition(alias, int(doc["at"]) / 1000), {})[key] = doc
    taken: set[str] = set()
    opened = False
    for week, batch in sorted(weeks.items()):
        opened |= create_index_if_missing(es, week)  # the template gives its mapping
        taken |= create_all(es, week, batch)
    if weeks:
        es.indices.refresh(index=",".join(sorted(weeks)))
    if opened:
        settle(es, alias)
    return taken


def settle(es: Elasticsearch, alias: str) -> list[str]:
    """Ask Elasticsearch to merge every week but the newest `_LIVE_WEEKS` to one segment, in
    the background (a week already merged costs nothing); the weeks asked. An optimisation
    only: a refusal is logged, never raised."""
    try:
        names = sorted(es.indices.get(index=partitions(alias), allow_no_indices=True))
        older = names[:-_LIVE_WEEKS]
        if older:
            es.indices.forcemerge(
                index=",".join(older), max_num_segments=1, wait_for_completion=False
            )
        return older
    except (ApiError, TransportError) as exc:  # housekeeping, never a batch failure
        log.warning("could not merge settled incident weeks of %s: %s", alias, exc)
        return []
