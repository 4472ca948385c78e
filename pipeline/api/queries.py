"""Elasticsearch request bodies for analyst searches, report views and entity views (plain data).

Every body here is built for one visibility: `restricted=False` bodies never ask
Elasticsearch for `restricted.*` (source excludes, highlight only on `text`, no facet or
query field under `restricted`). Only core search features are used (simple_query_string,
terms/min/max/cardinality aggregations, collapse, search_after) so the bodies run on the
minimal integ-test node and on a full cluster alike.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pipeline.enrich.exact.phone import normalise_phone
from pipeline.enrich.exact.postcode import normalise_postcode
from pipeline.enrich.exact.vehicle import normalise_vehicle
from pipeline.enrich.exact.web import canonical_url
from pipeline.enrich.mentions import EntityType
from pipeline.errors import RequestRejected
from pipeline.index.query import (
    HIT_TAGS,
    STEMS_FIELD,
    can_relax,
    text_clause,
    text_highlight,
    word_forms_highlight,
)

__all__ = [
    "HIT_TAGS",
    "MAX_WINDOW",
    "BadCursorError",
    "SearchParams",
    "SortOrder",
    "can_relax",
    "cluster_members_body",
    "decode_cursor",
    "encode_cursor",
    "normalise_entity_value",
    "report_body",
    "search_body",
    "source_filter",
]

# from + size may not go beyond Elasticsearch's default index.max_result_window.
MAX_WINDOW = 10_000
RESTRICTED_FIELD = "restricted"
ENTITY_FACET_SIZE = 10


class Mode(StrEnum):
    """`keyword`: the words (and their word forms) as written; `semantic`: reports whose
    sentence vector is nearest the query's, whatever their words (pipeline.enrich.embed)."""

    KEYWORD = "keyword"
    SEMANTIC = "semantic"


class SortOrder(StrEnum):
    """`relevance` (score, newest first on ties), by time, newest or oldest first, or
    `priority`: highest priority first (`pipeline.enrich.priority`), newest first among equals,
    the order of a regional unit's queue."""

    RELEVANCE = "relevance"
    NEWEST = "newest"
    OLDEST = "oldest"
    PRIORITY = "priority"


class BadCursorError(RequestRejected, ValueError):
    """A pagination cursor that this API did not issue for this sort order."""


class Fold(StrEnum):
    """What a collapsed search shows one result of: a cluster (same or near-same text) or an
    incident (the same event in any words)."""

    CLUSTER = "cluster"
    INCIDENT = "incident"

    @property
    def field(self) -> str:
        """The document field results fold on."""
        return f"{self.value}_id"


@dataclass(frozen=True, slots=True)
class SearchParams:
    """One analyst search, as plain data; shared by the API, the web page and the CLI."""

    q: str = ""
    sources: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()
    incidents: tuple[str, ...] = ()
    entities: tuple[tuple[EntityType, str], ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    sort: SortOrder = SortOrder.RELEVANCE
    size: int = 20
    cursor: str | None = None
    collapse: bool = True
    facets: bool = True
    fold: Fold = Fold.CLUSTER  # what a collapsed search shows one result of
    mode: Mode = Mode.KEYWORD

    def describe(self) -> dict[str, Any]:
        """The search as recorded in the audit trail."""
        return {
            "q": self.q,
            "sources": list(self.sources),
            "regions": list(self.regions),
            "clusters": list(self.clusters),
            "incidents": list(self.incidents),
            "entities": [{"type": t.value, "value": v} for t, v in self.entities],
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "sort": self.sort.value,
            "size": self.size,
            "cursor": self.cursor,
            "collapse": self.collapse,
            "fold": self.fold.value,
            "mode": self.mode.value,
        }


def normalise_entity_value(entity_type: EntityType, value: str) -> str:
    """The indexed form of a selector as an analyst may type it, with enrichment's own
    normalisers (contract §2 formats); a value they reject is searched as typed."""
    value = value.strip()
    normal: str | None = value
    if entity_type is EntityType.PHONE:
        normal = normalise_phone(value)
    elif entity_type is EntityType.POSTCODE:
        normal = normalise_postcode(value)
    elif entity_type is EntityType.VEHICLE:
        normal = normalise_vehicle(value)
    elif entity_type is EntityType.URL:
        normal = canonical_url(value)
    elif entity_type is EntityType.EMAIL:
        normal = value.lower()
    elif entity_type is EntityType.HANDLE:
        normal = value.lower() if value.startswith("@") else f"@{value.lower()}"
    return normal or value


def source_filter(restricted: bool) -> dict[str, Any]:
    """`_source` for a hit: never `extra` (unknown upstream fields, unvetted), and never
    `restricted.*` (reporter, caller and subject, and the narrative as written with the values
    masked out of `text`) unless the caller may see it."""
    excludes = ["extra", "extra.*", "kafka", "kafka.*", STEMS_FIELD]
    if not restricted:
        excludes += [RESTRICTED_FIELD, f"{RESTRICTED_FIELD}.*"]
    return {"excludes": excludes}


def _filters(params: SearchParams) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    if params.sources:
        filters.append({"terms": {"source": list(params.sources)}})
    if params.regions:
        filters.append({"terms": {"region": list(params.regions)}})
    if params.clusters:
        filters.append({"terms": {"cluster_id": list(params.clusters)}})
    if params.incidents:
        filters.append({"terms": {"incident_id": list(params.incidents)}})
    for entity_type, value in params.entities:
        filters.append(
            {"term": {f"entities.{entity_type.value}": normalise_entity_value(entity_type, value)}}
        )
    if params.since or params.until:
        bounds: dict[str, str] = {}
        if params.since:
            bounds["gte"] = params.since.isoformat()
        if params.until:
            bounds["lte"] = params.until.isoformat()
        filters.append({"range": {"@timestamp": bounds}})
    return filters


def _query(params: SearchParams, relaxed: bool = False) -> dict[str, Any]:
    must: list[dict[str, Any]] = []
    if params.q.strip():
        must.append(text_clause(params.q, relaxed=relaxed))
    return {"bool": {"must": must or [{"match_all": {}}], "filter": _filters(params)}}


def _sort(order: SortOrder) -> list[dict[str, Any]]:
    # (source, source_id) is unique per document (contract §2), so it makes a total order.
    tiebreak = [{"source": "asc"}, {"source_id": "asc"}]
    if order is SortOrder.NEWEST:
        return [{"@timestamp": "desc"}, *tiebreak]
    if order is SortOrder.OLDEST:
        return [{"@timestamp": "asc"}, *tiebreak]
    if order is SortOrder.PRIORITY:
        # documents from before the field sort as 0; an index that lacks it still answers
        priority = {"order": "desc", "missing": 0, "unmapped_type": "byte"}
        return [{"priority": priority}, {"@timestamp": "desc"}, *tiebreak]
    return [{"_score": "desc"}, {"@timestamp": "desc"}, *tiebreak]


def _facets() -> dict[str, Any]:
    aggs: dict[str, Any] = {
        "source": {"terms": {"field": "source", "size": 10}},
        "region": {"terms": {"field": "region", "size": 11}},
    }
    for entity_type in EntityType:
        aggs[f"entity.{entity_type.value}"] = {
            "terms": {"field": f"entities.{entity_type.value}", "size": ENTITY_FACET_SIZE}
        }
    return aggs


def encode_cursor(order: SortOrder, *, after: list[Any] | None = None, start: int = 0) -> str:
    """An opaque cursor: search_after values, or an offset for collapsed pages."""
    payload: dict[str, Any] = {"s": order.value}
    if after is not None:
        payload["a"] = after
    else:
        payload["f"] = start
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, order: SortOrder, collapse: bool) -> tuple[list[Any] | None, int]:
    """(search_after values, offset) from a cursor, or BadCursorError if it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadCursorError("the cursor is not one this API issued") from exc
    if not isinstance(payload, dict) or payload.get("s") != order.value:
        raise BadCursorError("the cursor belongs to a different sort order")
    if collapse:
        start = payload.get("f")
        if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start < MAX_WINDOW:
            raise BadCursorError("the cursor does not fit a collapsed search")
        return None, start
    after = payload.get("a")
    expected = len(_sort(order))
    if not isinstance(after, list) or len(after) != expected:
        raise BadCursorError("the cursor does not fit this search")
    for value in after:
        if value is not None and not isinstance(value, str | int | float):
            raise BadCursorError("the cursor does not fit this search")
        if isinstance(value, bool):
            raise BadCursorError("the cursor does not fit this search")
    return after, 0


def search_body(params: SearchParams, restricted: bool, *, relaxed: bool = False) -> dict[str, Any]:
    """The _search body for one page of `params` (raises BadCursorError on a foreign cursor).

    `relaxed`: reports need only most of the words (when none has them all, see `can_relax`).

    Collapsed searches (one hit per cluster) page by offset, because Elasticsearch only
    combines collapse with search_after when sorting on the collapse field; flat searches
    page with search_after and go as deep as the index.
    """
    q = params.q.strip()
    body: dict[str, Any] = {
        "query": _query(params, relaxed),
        "sort": _sort(params.sort),
        "size": params.size,
        "_source": source_filter(restricted),
        # word forms found only through their stems are marked too
        "highlight": text_highlight(query=word_forms_highlight(params.q) if q else None),
        "track_total_hits": True,
    }
    after, start = (None, 0)
    if params.cursor:
        after, start = decode_cursor(params.cursor, params.sort, params.collapse)
    if params.collapse:
        body["collapse"] = {
            "field": params.fold.field,
            # size 0: only the count of matching cluster members, never their documents.
            "inner_hits": {"name": "similar", "size": 0, "_source": False},
        }
        body["from"] = start
        body["size"] = max(0, min(params.size, MAX_WINDOW - start))
    elif after is not None:
        body["search_after"] = after
    aggs: dict[str, Any] = _facets() if params.facets else {}
    if params.collapse:
        aggs["clusters"] = {"cardinality": {"field": params.fold.field}}
    if aggs:
        body["aggs"] = aggs
    return body


def report_body(report_id: str, restricted: bool) -> dict[str, Any]:
    """One report by document id."""
    return {
        "query": {"ids": {"values": [report_id]}},
        "size": 1,
        "_source": source_filter(restricted),
    }


INCIDENT_REPORTS = 200  # the most of an incident's reports its view lists
_INCIDENT_ENTITIES = 20  # values per entity type


def incident_body(incident_id: str, restricted: bool) -> dict[str, Any]:
    """An incident's reports oldest first, with its sources, regions and merged entities."""
    seen = {
        "first_seen": {"min": {"field": "@timestamp"}},
        "last_seen": {"max": {"field": "@timestamp"}},
    }
    entities = {
        f"entity_{kind.value}": {
            "terms": {"field": f"entities.{kind.value}", "size": _INCIDENT_ENTITIES},
            "aggs": seen,
        }
        for kind in EntityType
    }
    return {
        "query": {"bool": {"filter": [{"term": {"incident_id": incident_id}}]}},
        "sort": _sort(SortOrder.OLDEST),
        "size": INCIDENT_REPORTS,
        "_source": source_filter(restricted),
        "track_total_hits": True,
        "aggs": {
            **seen,
            "sources": {"terms": {"field": "source", "size": 10}},
            "regions": {"terms": {"field": "region", "size": 11}},
            "clusters": {"cardinality": {"field": "cluster_id"}},
            **entities,
        },
    }


def knn_state_body(
    vector: list[float], k: int, params: SearchParams | None = None
) -> dict[str, Any]:
    """kNN over the incident state's vectors (`<alias>-incidents-*`), filtered by what the state
    holds of a report (source, region, time); the rest of a search's filters apply after."""
    filters: list[dict[str, Any]] = []
    if params is not None:
        if params.sources:
            filters.append({"terms": {"source": list(params.sources)}})
        if params.regions:
            filters.append({"terms": {"region": list(params.regions)}})
        if params.since or params.until:
            bounds = {}
            if params.since:
                bounds["gte"] = int(params.since.timestamp() * 1000)
            if params.until:
                bounds["lte"] = int(params.until.timestamp() * 1000)
            filters.append({"range": {"at": bounds}})
    knn: dict[str, Any] = {
        "field": "vec",
        "query_vector": vector,
        "k": k,
        "num_candidates": max(100, 4 * k),
    }
    if filters:
        knn["filter"] = filters
    return {"knn": knn, "size": k, "_source": ["doc", "cluster"]}


def ids_body(ids: list[str], params: SearchParams | None, restricted: bool) -> dict[str, Any]:
    """The reports among `ids` that pass `params`'s filters (a semantic page's second step)."""
    filters = [{"ids": {"values": ids}}, *(_filters(params) if params else [])]
    return {
        "query": {"bool": {"filter": filters}},
        "size": len(ids),
        "_source": source_filter(restricted),
    }


def cluster_members_body(
    cluster_id: str, exclude_id: str, restricted: bool, size: int = 20
) -> dict[str, Any]:
    """Other reports of one cluster, oldest first (the cluster's first report leads)."""
    return {
        "query": {
            "bool": {
                "filter": [{"term": {"cluster_id": cluster_id}}],
                "must_not": [{"ids": {"values": [exclude_id]}}],
            }
        },
        "sort": _sort(SortOrder.OLDEST),
        "size": size,
        "_source": source_filter(restricted),
        "track_total_hits": True,
    }
