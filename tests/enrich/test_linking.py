"""Linking query builders (unit) and the two calls against the real index (integration)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from elasticsearch import Elasticsearch

from pipeline.api.linking import (
    entity_query,
    entity_view,
    linked_query,
    linked_reports,
    shared_from_hit,
    strong_selectors,
)
from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.exact import extract_exact
from pipeline.enrich.mentions import Enrichment, EntityType
from pipeline.index.document import build_document, doc_id
from pipeline.index.mapping import ensure_index
from pipeline.ingest.report import Report
from pipeline.settings import Settings

DOC = {
    "source": "public_report",
    "source_id": "p-1",
    "entities": {
        "phone": ["+447700900123"],
        "vehicle": ["YX19KLM"],
        "person": ["John Smith"],
        "postcode": ["LS8 5AA"],
    },
}


def test_only_strong_selectors_link() -> None:
    assert strong_selectors(DOC) == [
        (EntityType.PHONE, "+447700900123"),
        (EntityType.VEHICLE, "YX19KLM"),
    ]


def test_linked_query_names_each_selector_and_excludes_the_document_itself() -> None:
    body = linked_query(DOC, limit=5)
    assert body is not None
    should = body["query"]["bool"]["should"]
    assert {
        "term": {"entities.phone": {"value": "+447700900123", "_name": "phone\x1f+447700900123"}}
    } in should
    assert len(should) == 2
    itself = body["query"]["bool"]["must_not"][0]["bool"]["filter"]
    assert {"term": {"source_id": "p-1"}} in itself
    assert body["size"] == 5


def test_no_strong_selector_no_query() -> None:
    assert linked_query({"entities": {"person": ["John Smith"]}}, limit=5) is None


def test_shared_selectors_come_from_matched_queries() -> None:
    hit = {"matched_queries": ["vehicle\x1fYX19KLM", "phone\x1f+447700900123"]}
    assert shared_from_hit(hit) == {"phone": ["+447700900123"], "vehicle": ["YX19KLM"]}


def test_entity_query_counts_sources_and_first_and_last_seen() -> None:
    body = entity_query("email", "a@example.org", limit=10)
    assert body["query"] == {"term": {"entities.email": "a@example.org"}}
    assert set(body["aggs"]) == {"sources", "first_seen", "last_seen"}


@pytest.fixture
def linked_index(es: Elasticsearch, settings: Settings, index_factory: Callable[[str], str]) -> str:
    """A real `reports`-style alias holding four reports; returns the alias."""
    scoped = settings.model_copy(update={"index_alias": index_factory("link")})
    ensure_index(es, scoped)
    rows = [
        (
            "public_report",
            "p-1",
            "2025-03-01T10:00:00+00:00",
            "White van YX19 KLM seen, driver phoned 07700 900123 and left.",
        ),
        (
            "hotline_call",
            "h-1",
            "2025-03-02T11:00:00+00:00",
            "Caller saw van YX19KLM again near the school.",
        ),
        (
            "online_referral",
            "o-1",
            "2025-03-05T09:30:00+00:00",
            "Contact them on 07700900123 says this channel.",
        ),
        (
            "public_report",
            "p-2",
            "2025-03-03T08:00:00+00:00",
            "Nothing to link here, a parcel on a bench.",
        ),
    ]
    for source, source_id, received_at, text in rows:
        report = Report.model_validate(
            {
                "source": source,
                "source_id": source_id,
                "received_at": received_at,
                "text": text,
                "origin": {"topic": "t", "partition": 0, "offset": 0},
            }
        )
        enrichment = Enrichment.from_mentions(extract_exact(text), region=None)
        document = build_document(
            report, enrichment, ClusterAssignment(source_id, False), ingested_at=datetime.now(UTC)
        )
        es.index(index=scoped.index_alias, id=doc_id(source, source_id), document=document)
    es.indices.refresh(index=scoped.index_alias)
    return scoped.index_alias


@pytest.mark.integration
def test_linked_reports_name_the_shared_selectors(es: Elasticsearch, linked_index: str) -> None:
    first = es.get(index=linked_index, id=doc_id("public_report", "p-1"))["_source"]
    links = {link.summary["source_id"]: link for link in linked_reports(es, linked_index, first)}
    assert set(links) == {"h-1", "o-1"}
    assert links["h-1"].shared == {"vehicle": ["YX19KLM"]}
    assert links["o-1"].shared == {"phone": ["+447700900123"]}
    assert links["h-1"].id == doc_id("hotline_call", "h-1")


@pytest.mark.integration
def test_entity_view_counts_sources_and_first_and_last_seen(
    es: Elasticsearch, linked_index: str
) -> None:
    view = entity_view(es, linked_index, EntityType.PHONE, "+447700900123")
    assert view.total == 2
    assert view.sources == {"public_report": 1, "online_referral": 1}
    assert view.first_seen is not None and view.first_seen.startswith("2025-03-01T10:00:00")
    assert view.last_seen is not None and view.last_seen.startswith("2025-03-05T09:30:00")
    assert [r["source_id"] for r in view.reports] == ["o-1", "p-1"]  # newest first
    assert entity_view(es, linked_index, "vehicle", "ZZ99ZZZ").total == 0
