"""Cross-source linking over the `reports` alias: reports sharing a strong selector, entity views.

Query builders are plain functions (tested without a node); the calls around them are thin.
All work on the minimal integ-test node: term queries, `_name`, filters/terms/min/max and
cardinality aggs. A selector whose reports fall in many distinct clusters (a hotline's own
number, a news site's home page) is common: it is named as such and links no reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import Elasticsearch

from pipeline.enrich.mentions import STRONG_SELECTORS, EntityType
from pipeline.errors import map_es_errors
from pipeline.settings import COMMON_SELECTOR_CLUSTERS

# What a linked report shows; the text and restricted fields are fetched by whoever opens it.
SUMMARY_FIELDS = [
    "source",
    "source_id",
    "@timestamp",
    "cluster_id",
    "duplicate",
    "region",
    "priority",
    "priority_reasons",
]
_SEPARATOR = "\x1f"
# Cardinality is near exact below its precision threshold; above it, only counts far past the
# common threshold are fuzzy, so twice the threshold keeps every decision exact (and cheap).
_MIN_PRECISION, _MAX_PRECISION = 100, 40_000

Selector = tuple[EntityType, str]


@dataclass(frozen=True, slots=True)
class LinkedReport:
    """A report linked to another through `shared` selectors (`{"phone": ["+44…"]}`)."""

    id: str
    summary: dict[str, Any]
    shared: dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class EntityHits:
    """One selector across the index: the reports naming it, per-source counts, first/last seen."""

    type: str
    value: str
    total: int
    reports: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)
    first_seen: str | None = None
    last_seen: str | None = None
    clusters: int = 0
    common: bool = False


def _name(kind: EntityType, value: str) -> str:
    return f"{kind.value}{_SEPARATOR}{value}"


def _selector(name: str) -> Selector:
    kind, _, value = name.partition(_SEPARATOR)
    return EntityType(kind), value


def strong_selectors(doc: Mapping[str, Any]) -> list[Selector]:
    """The (type, value) strong selectors of an indexed document, in a stable order.

    Only `entities.*`: a reporter's own phone or email written in the narrative is kept under
    `restricted.entities` instead, so it never links reports, whoever is looking.
    """
    entities = doc.get("entities") or {}
    return [
        (kind, value)
        for kind in sorted(STRONG_SELECTORS)
        for value in entities.get(kind.value) or []
    ]


def by_type(selectors: Iterable[Selector]) -> dict[str, list[str]]:
    """Selectors grouped by type, in a stable order: `{"phone": ["+44…"]}`."""
    grouped: dict[str, list[str]] = {}
    for kind, value in sorted(selectors):
        grouped.setdefault(kind.value, []).append(value)
    return grouped


def cluster_count_agg(min_clusters: int) -> dict[str, Any]:
    """Distinct clusters among the reports a bucket holds (exact up to twice `min_clusters`)."""
    precision = min(_MAX_PRECISION, max(_MIN_PRECISION, 2 * min_clusters))
    return {"cardinality": {"field": "cluster_id", "precision_threshold": precision}}


def common_query(selectors: Sequence[Selector], min_clusters: int) -> dict[str, Any] | None:
    """One size-0 search counting, for each selector, the distinct clusters of its reports.

    A `filters` bucket per selector, each with a cardinality of `cluster_id`; the query keeps
    only reports naming one of them, so the cost follows how common they are, not the index.
    Only `entities.*` is read: restricted values are never counted. None without selectors.
    """
    if not selectors:
        return None
    filters = {
        _name(kind, value): {"term": {f"entities.{kind.value}": value}} for kind, value in selectors
    }
    return {
        "size": 0,
        "track_total_hits": False,
        "query": {
            "bool": {
                "filter": [{"bool": {"should": list(filters.values()), "minimum_should_match": 1}}]
            }
        },
        "aggs": {
            "selectors": {
                "filters": {"filters": filters},
                "aggs": {"clusters": cluster_count_agg(min_clusters)},
            }
        },
    }


def clusters_from_response(response: Mapping[str, Any]) -> dict[Selector, int]:
    """Distinct clusters per selector, from the answer to `common_query`."""
    buckets = ((response.get("aggregations") or {}).get("selectors") or {}).get("buckets") or {}
    return {_selector(name): int(bucket["clusters"]["value"]) for name, bucket in buckets.items()}


def selector_clusters(
    es: Elasticsearch, alias: str, selectors: Sequence[Selector], min_clusters: int
) -> dict[Selector, int]:
    """How many distinct clusters each selector's reports fall in (one request for all)."""
    body = common_query(selectors, min_clusters)
    if body is None:
        return {}
    with map_es_errors("count clusters per selector"):
        response = es.search(index=alias, body=body)
    return clusters_from_response(response.body)


def common_selectors(
    es: Elasticsearch, alias: str, selectors: Sequence[Selector], min_clusters: int
) -> frozenset[Selector]:
    """The selectors whose reports fall in at least `min_clusters` distinct clusters."""
    counts = selector_clusters(es, alias, selectors, min_clusters)
    return frozenset(selector for selector, n in counts.items() if n >= min_clusters)


def linked_query(
    doc: Mapping[str, Any], limit: int, skip: Iterable[Selector] = ()
) -> dict[str, Any] | None:
    """Search body for reports sharing a strong selector with `doc`, leaving out those in `skip`
    (the common ones); None when none is left.

    Each selector is its own named term query, so every hit says which ones it shares.
    """
    skipped = frozenset(skip)
    selectors = [selector for selector in strong_selectors(doc) if selector not in skipped]
    if not selectors:
        return None
    should = [
        {"term": {f"entities.{kind.value}": {"value": value, "_name": _name(kind, value)}}}
        for kind, value in selectors
    ]
    itself = {
        "bool": {
            "filter": [
                {"term": {"source": doc.get("source")}},
                {"term": {"source_id": doc.get("source_id")}},
            ]
        }
    }
    return {
        "query": {"bool": {"should": should, "minimum_should_match": 1, "must_not": [itself]}},
        "size": limit,
        "sort": [{"_score": "desc"}, {"@timestamp": "desc"}],
        "_source": SUMMARY_FIELDS,
    }


def shared_from_hit(hit: Mapping[str, Any]) -> dict[str, list[str]]:
    """The selectors a hit matched, grouped by type, from its `matched_queries`."""
    shared: dict[str, list[str]] = {}
    for name in sorted(hit.get("matched_queries") or []):
        kind, _, value = name.partition(_SEPARATOR)
        shared.setdefault(kind, []).append(value)
    return shared


def linked_reports(
    es: Elasticsearch,
    alias: str,
    doc: Mapping[str, Any],
    limit: int = 20,
    skip: Iterable[Selector] = (),
) -> list[LinkedReport]:
    """Other reports sharing a phone, vehicle, email, URL or handle with `doc` (its `_source`),
    other than the selectors in `skip`.

    More shared selectors rank first, then the most recent.
    """
    body = linked_query(doc, limit, skip)
    if body is None:
        return []
    with map_es_errors("linked reports"):
        response = es.search(index=alias, body=body)
    return [
        LinkedReport(id=hit["_id"], summary=hit["_source"], shared=shared_from_hit(hit))
        for hit in response["hits"]["hits"]
    ]


def entity_query(kind: EntityType | str, value: str, limit: int) -> dict[str, Any]:
    """Search body: reports naming the selector, newest first, with sources and first/last seen."""
    field_name = f"entities.{EntityType(kind).value}"
    return {
        "query": {"term": {field_name: value}},
        "size": limit,
        "sort": [{"@timestamp": "desc"}],
        "_source": SUMMARY_FIELDS,
        "track_total_hits": True,
        "aggs": {
            "sources": {"terms": {"field": "source", "size": 10}},
            "first_seen": {"min": {"field": "@timestamp"}},
            "last_seen": {"max": {"field": "@timestamp"}},
        },
    }


def entity_view(
    es: Elasticsearch,
    alias: str,
    kind: EntityType | str,
    value: str,
    limit: int = 50,
    *,
    min_clusters: int = COMMON_SELECTOR_CLUSTERS,
) -> EntityHits:
    """Everything the index knows about one selector value (give it in normal form), with the
    distinct clusters of its reports counted as for a report view's selectors."""
    kind = EntityType(kind)
    with map_es_errors("entity view"):
        response = es.search(index=alias, body=entity_query(kind, value, limit))
    aggs = response["aggregations"]
    total = int(response["hits"]["total"]["value"])
    clusters = selector_clusters(es, alias, [(kind, value)], min_clusters) if total else {}
    count = clusters.get((kind, value), 0)
    return EntityHits(
        type=kind.value,
        value=value,
        total=total,
        reports=[{"id": hit["_id"], **hit["_source"]} for hit in response["hits"]["hits"]],
        sources={bucket["key"]: bucket["doc_count"] for bucket in aggs["sources"]["buckets"]},
        first_seen=aggs["first_seen"].get("value_as_string"),
        last_seen=aggs["last_seen"].get("value_as_string"),
        clusters=count,
        common=count >= min_clusters,
    )
