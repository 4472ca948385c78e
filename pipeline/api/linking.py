"""Cross-source linking over the `reports` alias: reports sharing a strong selector, entity views.

Query builders are plain functions (tested without a node); the two calls around them are
thin. Both work on the minimal integ-test node: term queries, `_name`, terms/min/max aggs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import Elasticsearch

from pipeline.enrich.mentions import STRONG_SELECTORS, EntityType
from pipeline.errors import map_es_errors

# What a linked report shows; the text and restricted fields are fetched by whoever opens it.
SUMMARY_FIELDS = ["source", "source_id", "@timestamp", "cluster_id", "duplicate", "region"]
_SEPARATOR = "\x1f"


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


def strong_selectors(doc: Mapping[str, Any]) -> list[tuple[EntityType, str]]:
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


def linked_query(doc: Mapping[str, Any], limit: int) -> dict[str, Any] | None:
    """Search body for reports sharing a strong selector with `doc`; None when it has none.

    Each selector is its own named term query, so every hit says which ones it shares.
    """
    selectors = strong_selectors(doc)
    if not selectors:
        return None
    should = [
        {
            "term": {
                f"entities.{kind.value}": {
                    "value": value,
                    "_name": f"{kind.value}{_SEPARATOR}{value}",
                }
            }
        }
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
    es: Elasticsearch, alias: str, doc: Mapping[str, Any], limit: int = 20
) -> list[LinkedReport]:
    """Other reports sharing a phone, vehicle, email, URL or handle with `doc` (its `_source`).

    More shared selectors rank first, then the most recent.
    """
    body = linked_query(doc, limit)
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
    es: Elasticsearch, alias: str, kind: EntityType | str, value: str, limit: int = 50
) -> EntityHits:
    """Everything the index knows about one selector value (give it in normal form)."""
    with map_es_errors("entity view"):
        response = es.search(index=alias, body=entity_query(kind, value, limit))
    aggs = response["aggregations"]
    return EntityHits(
        type=EntityType(kind).value,
        value=value,
        total=response["hits"]["total"]["value"],
        reports=[{"id": hit["_id"], **hit["_source"]} for hit in response["hits"]["hits"]],
        sources={bucket["key"]: bucket["doc_count"] for bucket in aggs["sources"]["buckets"]},
        first_seen=aggs["first_seen"].get("value_as_string"),
        last_seen=aggs["last_seen"].get("value_as_string"),
    )
