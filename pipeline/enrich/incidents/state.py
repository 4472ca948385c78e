"""The incident state index in Elasticsearch: every report's vector, trace and incident.

One index, `<alias>-incidents`, shared by every worker, holds:

    <report key>   {"incident", "doc", "at", "places", "selectors", "region", "source",
                    "cluster", "vec"?}
    lock           the lease that serialises decisions (`pipeline.enrich.dedup.state.locked`)

`vec` is the report's sentence vector, a `dense_vector` searched by kNN over quantised HNSW
(`int8_hnsw`, four times smaller than float vectors in memory); a near-duplicate has none (it
joins its cluster's incident and would only crowd the neighbours). Documents are created once
and changed only by analysts' corrections (`pipeline.enrich.incidents.corrections`), so a
replay finds its earlier answer. The reports index carries only `incident_id`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from elasticsearch import Elasticsearch

from pipeline.enrich.dedup.state import ensure_with_template, state_template
from pipeline.enrich.embed import DIMS
from pipeline.enrich.incidents.decide import Neighbour, Vector
from pipeline.enrich.incidents.traces import Trace
from pipeline.errors import es_failure_reason, unavailable

__all__ = [
    "TEMPLATE_LAYOUT",
    "ensure_state",
    "neighbours",
    "parse_trace",
    "state_doc",
    "state_index",
]

TEMPLATE_LAYOUT = 1
_SOURCE = ["incident", "at", "places", "selectors", "region"]


def state_index(alias: str) -> str:
    """The incident state index of the pipeline whose analysts' alias is `alias`."""
    return f"{alias}-incidents"


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


def template_body(index: str) -> dict[str, Any]:
    """Index template for the state index (its priority beats broad `<alias>-*` templates)."""
    return state_template(
        index, owner="pipeline.enrich.incidents", layout=TEMPLATE_LAYOUT, properties=PROPERTIES
    )


def ensure_state(es: Elasticsearch, index: str) -> None:
    """Create or update the template, then the index; safe to call from every worker."""
    ensure_with_template(es, index, template_body(index))


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


def _knn_body(trace: Trace, vector: Vector, k: int, window_s: float) -> dict[str, Any]:
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
    index: str,
    queries: Sequence[tuple[Trace, Vector]],
    *,
    k: int,
    window_s: float,
) -> list[list[Neighbour]]:
    """Each query's `k` nearest stored reports within `window_s`, one `msearch` for all."""
    if not queries:
        return []
    searches: list[Mapping[str, Any]] = []
    for trace, vector in queries:
        searches += [{"index": index}, _knn_body(trace, vector, k, window_s)]
    response = es.msearch(searches=searches)
    out: list[list[Neighbour]] = []
    for (trace, _), result in zip(queries, response["responses"], strict=True):
        if "error" in result:
            error = result["error"] if isinstance(result["error"], dict) else {}
            reason = es_failure_reason(result.get("status"), error.get("type"), error.get("reason"))
            raise unavailable(f"incident kNN on {index}: {error.get('type')}", reason)
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
