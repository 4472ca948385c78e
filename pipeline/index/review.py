"""Reports due for review, and a decision to retain one, in Elasticsearch (README, "Retention
and review").

The document's `review_date` is the policy's, from the record alone. What extends it is read
when the due reports are listed, so the listing is always current and a replay or a reindex
(which rebuilds every document from Kafka) loses nothing: decisions to retain come from the
append-only audit trail, relevant alerts from `<alias>-alerts`, and incidents from the reports'
own `incident_id` (the latest review date among an incident's reports).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from pipeline.enrich.watch.alerts import alerts_index
from pipeline.errors import map_es_errors
from pipeline.index.document import doc_id
from pipeline.index.retention import (
    Extension,
    RetentionPolicy,
    add_years,
    effective_review,
    parse_day,
)
from pipeline.ingest.sources import Source

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

__all__ = [
    "DueReport",
    "Holds",
    "IncidentHolds",
    "RelevantAlerts",
    "RetainDecisions",
    "due_reports",
    "find_report",
    "record_retain",
]

PAGE_SIZE = 1_000
_FIELDS = ["source", "source_id", "@timestamp", "review_date", "incident_id"]
_TERMS = 10_000  # Elasticsearch's default most hits of one search


@dataclass(frozen=True, slots=True)
class DueReport:
    """One report due for review: `due` is its review date after every extension."""

    doc_id: str
    source: str
    source_id: str
    received_at: str
    review_date: date
    due: date
    extended_by: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """`source:id`, as `pipeline retention review` and `pipeline erase` take it."""
        return f"{self.source}:{self.source_id}"

    def summary(self) -> dict[str, Any]:
        """Plain JSON-ready fields (no content: the listing never shows the narrative)."""
        return {
            "report": self.key,
            "received_at": self.received_at,
            "review_date": self.review_date.isoformat(),
            "due": self.due.isoformat(),
            "extended_by": list(self.extended_by),
        }


class Holds(Protocol):
    """Something that can put off reviews: extensions by document id."""

    def extensions(self, hits: Sequence[Mapping[str, Any]]) -> dict[str, list[Extension]]: ...


class IncidentHolds:
    """While a report's incident goes on, its review waits for the incident: a report is not
    due before the latest review date of any report of its incident (`incident_id`), so the
    first calls about an event are reviewed with its last ones, not years before them."""

    def __init__(self, es: Elasticsearch, alias: str) -> None:
        self.es = es
        self.alias = alias

    def extensions(self, hits: Sequence[Mapping[str, Any]]) -> dict[str, list[Extension]]:
        """One search per page: the latest review date of each incident the page's reports
        are in (reports without an incident are held by nothing here)."""
        incident_of = {
            str(hit["_id"]): str(hit["_source"]["incident_id"])
            for hit in hits
            if hit.get("_source", {}).get("incident_id")
        }
        if not incident_of:
            return {}
        with map_es_errors("read incidents' review dates"):
            found = self.es.search(
                index=self.alias,
                size=0,
                query={"terms": {"incident_id": sorted(set(incident_of.values()))}},
                aggs={
                    "incidents": {
                        "terms": {"field": "incident_id", "size": len(set(incident_of.values()))},
                        "aggs": {"latest": {"max": {"field": "review_date"}}},
                    }
                },
            ).body
        latest: dict[str, date] = {}
        for bucket in found["aggregations"]["incidents"]["buckets"]:
            stamp = bucket["latest"].get("value_as_string")
            day = parse_day(stamp[:10]) if stamp else None
            if day is not None:
                latest[str(bucket["key"])] = day
        return {
            did: [Extension("incident", latest[incident])]
            for did, incident in incident_of.items()
            if incident in latest
        }


class RelevantAlerts:
    """Reports with a hit on an alert acknowledged as relevant: the policy's
    `relevant_alert_years` from the acknowledgement (the latest, if several)."""

    def __init__(self, es: Elasticsearch, alias: str, policy: RetentionPolicy) -> None:
        self.es = es
        self.index = alerts_index(alias)
        self.policy = policy

    def extensions(self, hits: Sequence[Mapping[str, Any]]) -> dict[str, list[Extension]]:
        """Two searches per page: the reports' hits, then which of their alerts are relevant."""
        dids = [str(hit["_id"]) for hit in hits]
        if not dids:
            return {}
        with map_es_errors("read relevant alerts"):
            if not self.es.indices.exists(index=self.index):
                return {}
            found = self.es.search(
                index=self.index,
                query={
                    "bool": {"filter": [{"term": {"kind": "hit"}}, {"terms": {"report_id": dids}}]}
                },
                source_includes=["alert_id", "report_id"],
                size=_TERMS,
            ).body["hits"]["hits"]
            alerts_of: dict[str, set[str]] = {}
            for doc in found:
                alerts_of.setdefault(doc["_source"]["alert_id"], set()).add(
                    doc["_source"]["report_id"]
                )
            if not alerts_of:
                return {}
            relevant = self.es.search(
                index=self.index,
                query={
                    "bool": {
                        "filter": [
                            {"term": {"kind": "alert"}},
                            {"terms": {"alert_id": sorted(alerts_of)}},
                            {"term": {"acknowledged.outcome": "relevant"}},
                        ]
                    }
                },
                source_includes=["alert_id", "acknowledged.at"],
                size=_TERMS,
            ).body["hits"]["hits"]
        extensions: dict[str, list[Extension]] = {}
        for doc in relevant:
            at = datetime.fromisoformat(doc["_source"]["acknowledged"]["at"])
            for did in alerts_of.get(doc["_source"]["alert_id"], ()):
                extensions.setdefault(did, []).append(self.policy.after_relevant_alert(at))
        return extensions


class RetainDecisions:
    """Decisions to retain, read from the audit trail (`action`, the report's key in `ids`,
    the next review date in `query.next_review`). The trail is append-only and outside the
    index, so a decision outlives a document rebuilt from Kafka."""

    def __init__(self, es: Elasticsearch, audit_index: str, action: str) -> None:
        self.es = es
        self.index = audit_index
        self.action = action

    def extensions(self, hits: Sequence[Mapping[str, Any]]) -> dict[str, list[Extension]]:
        """The latest decision per report (a later one replaces an earlier one)."""
        by_key = {f"{h['_source']['source']}:{h['_source']['source_id']}": h["_id"] for h in hits}
        if not by_key:
            return {}
        with map_es_errors("read review decisions"):
            if not self.es.indices.exists(index=self.index):
                return {}
            found = self.es.search(
                index=self.index,
                query={
                    "bool": {
                        "filter": [
                            {"term": {"action": self.action}},
                            {"terms": {"ids": sorted(by_key)}},
                        ]
                    }
                },
                sort=[{"@timestamp": "desc"}],
                source_includes=["ids", "query"],
                size=_TERMS,
            ).body["hits"]["hits"]
        extensions: dict[str, list[Extension]] = {}
        for record in found:
            until = parse_day(record["_source"].get("query", {}).get("next_review"))
            for key in record["_source"].get("ids", []):
                if until is not None and key in by_key and by_key[key] not in extensions:
                    extensions[str(by_key[key])] = [Extension("retained", until)]
        return extensions


def _review_date(policy: RetentionPolicy, source: Mapping[str, Any]) -> date:
    """The document's own date, or the policy's from `@timestamp` for a document written
    before review dates existed."""
    stored = parse_day(source.get("review_date"))
    if stored is not None:
        return stored
    return policy.review_date(source["source"], datetime.fromisoformat(source["@timestamp"]))


def _candidates_query(policy: RetentionPolicy, before: date, source: str | None) -> dict[str, Any]:
    """Documents whose own review date is before `before`: every due report is one (an
    extension only ever moves a date later)."""
    older: list[dict[str, Any]] = []
    for name in [source] if source else [s.value for s in Source]:
        received = add_years(before, -policy.period(name)).isoformat()
        older.append(
            {
                "bool": {
                    "must_not": {"exists": {"field": "review_date"}},
                    "filter": [
                        {"term": {"source": name}},
                        {"range": {"@timestamp": {"lt": received}}},
                    ],
                }
            }
        )
    dated: dict[str, Any] = {"range": {"review_date": {"lt": before.isoformat()}}}
    return {
        "bool": {
            "filter": [{"term": {"source": source}}] if source else [],
            "should": [dated, *older],
            "minimum_should_match": 1,
        }
    }


def _pages(
    es: Elasticsearch, alias: str, query: dict[str, Any], size: int
) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """Pages of candidates in (received, source, id) order, each with the total."""
    after: list[Any] | None = None
    while True:
        with map_es_errors("list reports due for review"):
            body = es.search(
                index=alias,
                query=query,
                sort=[{"@timestamp": "asc"}, {"source": "asc"}, {"source_id": "asc"}],
                size=size,
                source_includes=_FIELDS,
                track_total_hits=True,
                search_after=after,
            ).body
        hits = body["hits"]["hits"]
        if not hits:
            return
        yield hits, int(body["hits"]["total"]["value"])
        if len(hits) < size:
            return
        after = hits[-1]["sort"]


def due_reports(
    es: Elasticsearch,
    alias: str,
    policy: RetentionPolicy,
    *,
    before: date,
    source: str | None = None,
    holds: Sequence[Holds] = (),
    page_size: int = PAGE_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> list[DueReport]:
    """Every report whose review date, after every hold's extensions, is before `before`:
    oldest due first (then source and id). Reads the candidates a page at a time, asking
    each hold about each page; `progress(read, total)` after each page."""
    with map_es_errors(f"find {alias}"):
        if not es.indices.exists_alias(name=alias):
            return []
    due: list[DueReport] = []
    read = 0
    for hits, total in _pages(es, alias, _candidates_query(policy, before, source), page_size):
        extensions: dict[str, list[Extension]] = {}
        for hold in holds:
            for did, found in hold.extensions(hits).items():
                extensions.setdefault(did, []).extend(found)
        for hit in hits:
            body = hit["_source"]
            review_date = _review_date(policy, body)
            when, reasons = effective_review(review_date, extensions.get(hit["_id"], []))
            if when < before:
                due.append(
                    DueReport(
                        doc_id=hit["_id"],
                        source=body["source"],
                        source_id=str(body["source_id"]),
                        received_at=body["@timestamp"],
                        review_date=review_date,
                        due=when,
                        extended_by=tuple(reasons),
                    )
                )
        read += len(hits)
        if progress is not None:
            progress(read, total)
    return sorted(due, key=lambda d: (d.due, d.source, d.source_id))


def find_report(
    es: Elasticsearch, alias: str, source: str, source_id: str
) -> dict[str, Any] | None:
    """The report's hit (`_index`, `_id`, `_source` without content) in the alias, or None."""
    with map_es_errors(f"find a report in {alias}"):
        if not es.indices.exists_alias(name=alias):
            return None
        hits = es.search(
            index=alias,
            query={"ids": {"values": [doc_id(source, source_id)]}},
            source_includes=[*_FIELDS, "review"],
            size=1,
        ).body["hits"]["hits"]
    return dict(hits[0]) if hits else None


def record_retain(
    es: Elasticsearch, hit: Mapping[str, Any], review: Mapping[str, Any], next_review: date
) -> None:
    """Write the decision on the document: its new `review_date` and the `review` object."""
    with map_es_errors("record a review on the report"):
        es.update(
            index=hit["_index"],
            id=hit["_id"],
            doc={"review_date": next_review.isoformat(), "review": dict(review)},
            refresh=True,
        )
