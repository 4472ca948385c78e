"""`due_reports` on the real node: read a page at a time, with progress, oldest due first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from elasticsearch import Elasticsearch

from pipeline.enrich.mentions import Enrichment
from pipeline.index.document import build_document, doc_id
from pipeline.index.mapping import ensure_index, index_name, mappings
from pipeline.index.retention import RetentionPolicy
from pipeline.index.review import IncidentHolds, due_reports, find_report
from pipeline.ingest.report import Origin, Report
from pipeline.ingest.sources import Source
from pipeline.settings import Settings

pytestmark = pytest.mark.integration


def test_due_reads_every_page_and_reports_progress(
    es: Elasticsearch, settings: Settings, index_factory: Callable[[str], str]
) -> None:
    ours = settings.model_copy(update={"index_alias": index_factory("due")})
    ensure_index(es, ours)
    policy = RetentionPolicy.from_settings(
        ours.model_copy(update={"retention_hotline_call_years": 1})
    )
    # received in one order; due in another (hotline calls after one year, the rest after six)
    received = {
        ("public_report", "p1"): "2015-01-01",
        ("hotline_call", "h1"): "2019-06-01",
        ("public_report", "p2"): "2014-03-01",
        ("hotline_call", "h2"): "2018-01-01",
        ("public_report", "p3"): "2016-01-01",
        ("hotline_call", "h3"): "2026-11-30",  # due 2027: not yet
    }
    operations: list[dict[str, object]] = []
    for (source, rid), day in received.items():
        report = Report(
            source=Source(source),
            source_id=rid,
            received_at=datetime.fromisoformat(f"{day}T08:00:00+00:00"),
            text=f"report {rid}",
            origin=Origin(topic="t", partition=0, offset=0),
        )
        document = build_document(
            report, Enrichment(), None, ingested_at=datetime.now(UTC), retention=policy
        )
        operations += [
            {"index": {"_index": ours.index_alias, "_id": doc_id(source, rid)}},
            document,
        ]
    es.bulk(operations=operations, refresh=True)

    seen: list[tuple[int, int]] = []
    due = due_reports(
        es,
        ours.index_alias,
        policy,
        before=date(2026, 12, 3),
        holds=[IncidentHolds(es, ours.index_alias)],
        page_size=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert [(d.key, d.due.isoformat()) for d in due] == [
        ("hotline_call:h2", "2019-01-01"),
        ("public_report:p2", "2020-03-01"),
        ("hotline_call:h1", "2020-06-01"),
        ("public_report:p1", "2021-01-01"),
        ("public_report:p3", "2022-01-01"),
    ]
    assert seen == [(2, 5), (4, 5), (5, 5)]  # only the candidates are read
    assert due_reports(es, ours.index_alias, policy, before=date(2019, 1, 1)) == []
    hit = find_report(es, ours.index_alias, "hotline_call", "h3")
    assert hit is not None and hit["_source"]["review_date"] == "2027-11-30"
    assert find_report(es, ours.index_alias, "hotline_call", "nope") is None
    assert due_reports(es, index_factory("none"), policy, before=date(2030, 1, 1)) == []


def test_an_existing_index_takes_review_dates_in_place(
    es: Elasticsearch, settings: Settings, index_factory: Callable[[str], str]
) -> None:
    ours = settings.model_copy(update={"index_alias": index_factory("old")})
    older = mappings()
    for field in ("review_date", "review"):
        del older["properties"][field]
    name = index_name(ours.index_alias, 3)
    es.indices.create(index=name, mappings=older, aliases={ours.index_alias: {}})
    assert ensure_index(es, ours) == name  # the same index, not a new generation
    properties = es.indices.get_mapping(index=name)[name]["mappings"]["properties"]
    assert properties["review_date"] == {"type": "date", "format": "strict_date"}
    assert properties["review"]["properties"]["outcome"] == {"type": "keyword"}


def test_a_report_is_not_due_before_the_last_report_of_its_incident(
    es: Elasticsearch, settings: Settings, index_factory: Callable[[str], str]
) -> None:
    ours = settings.model_copy(update={"index_alias": index_factory("hold")})
    ensure_index(es, ours)
    policy = RetentionPolicy.from_settings(ours)
    received = {"first": "2015-01-01", "later": "2018-06-01", "alone": "2015-01-01"}
    operations: list[dict[str, object]] = []
    for rid, day in received.items():
        report = Report(
            source=Source.PUBLIC_REPORT,
            source_id=rid,
            received_at=datetime.fromisoformat(f"{day}T08:00:00+00:00"),
            text=f"report {rid}",
            origin=Origin(topic="t", partition=0, offset=0),
        )
        incident = "inc-alone" if rid == "alone" else "inc-event"
        document = build_document(
            report,
            Enrichment(),
            None,
            ingested_at=datetime.now(UTC),
            retention=policy,
            incident=incident,
        )
        operations += [
            {"index": {"_index": ours.index_alias, "_id": doc_id("public_report", rid)}},
            document,
        ]
    es.bulk(operations=operations, refresh=True)
    due = {
        d.key: (d.due.isoformat(), d.extended_by)
        for d in due_reports(
            es,
            ours.index_alias,
            policy,
            before=date(2030, 1, 1),
            holds=[IncidentHolds(es, ours.index_alias)],
        )
    }
    own = policy.review_date("public_report", datetime(2015, 1, 1, tzinfo=UTC)).isoformat()
    last = policy.review_date("public_report", datetime(2018, 6, 1, tzinfo=UTC)).isoformat()
    assert due["public_report:alone"] == (own, ())
    assert due["public_report:first"] == (last, ("incident",))
    assert due["public_report:later"][0] == last
