"""The bulk sink against the real Elasticsearch node: versions, rejections, real failures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from pipeline.enrich.mentions import Enrichment, EntityType, Mention
from pipeline.errors import SinkBackpressure
from pipeline.index.document import build_document, doc_id, doc_version
from pipeline.index.mapping import ensure_index
from pipeline.index.sink import BulkSink, IndexAction
from pipeline.ingest.report import Origin, Report, ReportLocation
from pipeline.ingest.sources import Source
from pipeline.settings import Settings
from tests.harness import free_port

pytestmark = pytest.mark.integration

BASE_MS = 1_772_353_800_000


def action(
    source_id: str, *, version_ms: int = BASE_MS, text: str = "seen near the bridge"
) -> IndexAction:
    report = Report(
        source=Source.PUBLIC_REPORT,
        source_id=source_id,
        received_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        text=text,
        location=ReportLocation(text="Leeds", postcode="LS1 4DY", lat=53.8, lon=-1.55),
        attributes={"channel": "online_form"},
        restricted={"reporter": {"name": "Jo Bloggs", "anonymous": False}},
        extra={"upstream_only": {"nested": [1, 2]}},
        origin=Origin(
            topic="intake.public-reports", partition=0, offset=1, timestamp_ms=version_ms
        ),
    )
    enrichment = Enrichment.from_mentions(
        [Mention(EntityType.PERSON, "Jo", "Jo", 0, 2)], region="North East"
    )
    document = build_document(report, enrichment, None, ingested_at=datetime.now(UTC))
    return IndexAction(doc_id(report.source, report.source_id), doc_version(report), document)


@pytest.fixture
def alias(es: Elasticsearch, settings: Settings, index_factory: Callable[[str], str]) -> str:
    name = index_factory("sink")
    ensure_index(es, settings.model_copy(update={"index_alias": name}))
    return name


def fast_sink(es: Elasticsearch, **options: Any) -> BulkSink:
    return BulkSink(es, backoff_base=0.01, backoff_max=0.05, **options)


def stored(es: Elasticsearch, alias: str, source_id: str) -> dict[str, Any]:
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, query={"term": {"source_id": source_id}})["hits"]
    assert hits["total"]["value"] == 1, f"expected exactly one document for {source_id}"
    return dict(hits["hits"][0]["_source"])


def test_redelivery_overwrites_and_stale_replay_loses(es: Elasticsearch, alias: str) -> None:
    sink = fast_sink(es)
    first = sink.write([action("r1", text="first")], index=alias)
    assert [o.status for o in first] == ["indexed"]

    # same record delivered again (same version): overwrites, still one document
    again = sink.write([action("r1", text="redelivered")], index=alias)
    assert [o.status for o in again] == ["indexed"]
    assert stored(es, alias, "r1")["text"] == "redelivered"

    # an older record replayed: 409 is success ("stale") and the newer document stays
    stale = sink.write([action("r1", version_ms=BASE_MS - 1, text="old replay")], index=alias)
    assert [(o.status, o.http_status) for o in stale] == [("stale", 409)]
    assert stored(es, alias, "r1")["text"] == "redelivered"

    newer = sink.write([action("r1", version_ms=BASE_MS + 1, text="resent")], index=alias)
    assert [o.status for o in newer] == ["indexed"]
    assert stored(es, alias, "r1")["text"] == "resent"


def test_rejected_document_comes_back_with_the_error_and_others_are_indexed(
    es: Elasticsearch, alias: str
) -> None:
    good = action("ok-1")
    unmapped = action("bad-1")._replace(document={**action("bad-1").document, "surprise": 1})
    mistyped = action("bad-2")._replace(document={**action("bad-2").document, "duplicate": "maybe"})
    outcomes = fast_sink(es).write([good, unmapped, mistyped], index=alias)

    assert [o.action for o in outcomes] == [good, unmapped, mistyped]
    assert [o.status for o in outcomes] == ["indexed", "rejected", "rejected"]
    assert outcomes[1].http_status == 400
    assert outcomes[1].error is not None
    assert outcomes[1].error["type"] == "strict_dynamic_mapping_exception"
    assert outcomes[2].error is not None
    assert "duplicate" in outcomes[2].error["reason"]
    stored(es, alias, "ok-1")


def test_restricted_and_extra_are_stored_but_not_searchable(es: Elasticsearch, alias: str) -> None:
    fast_sink(es).write([action("p1")], index=alias)
    document = stored(es, alias, "p1")
    assert document["restricted"]["reporter"]["name"] == "Jo Bloggs"
    assert document["extra"] == {"upstream_only": {"nested": [1, 2]}}
    for query in (
        {"match": {"restricted.reporter.name": "Bloggs"}},
        {"query_string": {"query": "Bloggs"}},
        {"term": {"extra.upstream_only.nested": 1}},
    ):
        assert es.search(index=alias, query=query)["hits"]["total"]["value"] == 0
    assert (
        es.search(index=alias, query={"match": {"text": "bridge"}})["hits"]["total"]["value"] == 1
    )


def test_splits_large_batches_and_accounts_for_every_item(es: Elasticsearch, alias: str) -> None:
    actions = [action(f"many-{n}", text="x" * (n * 50)) for n in range(60)]
    outcomes = fast_sink(es, max_actions=7, max_bytes=4_000).write(actions, index=alias)
    assert [o.action for o in outcomes] == actions
    assert {o.status for o in outcomes} == {"indexed"}
    es.indices.refresh(index=alias)
    assert es.count(index=alias)["count"] == 60


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        ({"index.blocks.write": True}, "blocked"),
        ({"index.blocks.read_only_allow_delete": True}, "blocked"),
    ],
)
def test_blocked_index_gives_backpressure_after_retries(
    es: Elasticsearch, alias: str, block: dict[str, bool], reason: str
) -> None:
    es.indices.put_settings(index=alias, settings=block)
    retried: list[str] = []
    sink = fast_sink(es, max_retries=2, on_retry=retried.append)
    try:
        with pytest.raises(SinkBackpressure) as caught:
            sink.write([action("b1"), action("b2")], index=alias)
    finally:
        es.indices.put_settings(index=alias, settings={key: None for key in block})
    assert caught.value.retry_after > 0
    assert caught.value.reason == reason
    assert retried == [reason] * 4  # two documents, two retries each


def test_an_alias_without_a_write_index_is_backpressure_not_a_rejection(
    es: Elasticsearch, alias: str
) -> None:
    # a second index under the alias and the write flag gone: every write is refused with
    # illegal_argument_exception (400), which is the alias's fault, not the documents'
    extra = f"{alias}-v999"
    es.indices.create(index=extra)
    es.indices.update_aliases(
        actions=[
            {"add": {"index": extra, "alias": alias}},
            {"add": {"index": f"{alias}-v*", "alias": alias, "is_write_index": False}},
        ]
    )
    with pytest.raises(SinkBackpressure) as caught:
        fast_sink(es, max_retries=1).write([action("w1")], index=alias)
    assert caught.value.reason == "index_unavailable"


def test_closed_index_gives_backpressure(es: Elasticsearch, alias: str) -> None:
    es.indices.close(index=alias)
    with pytest.raises(SinkBackpressure, match="index_unavailable"):
        fast_sink(es, max_retries=1).write([action("c1")], index=alias)


def test_retry_succeeds_once_the_block_is_lifted(es: Elasticsearch, alias: str) -> None:
    es.indices.put_settings(index=alias, settings={"index.blocks.write": True})

    def lift_block(reason: str) -> None:
        # an operator fixing the index while the sink backs off
        es.indices.put_settings(index=alias, settings={"index.blocks.write": None})

    sink = fast_sink(es, max_retries=3, on_retry=lift_block)
    outcomes = sink.write([action("l1"), action("l2")], index=alias)
    assert [o.status for o in outcomes] == ["indexed", "indexed"]
    stored(es, alias, "l2")


def closed_port() -> int:
    return free_port()


def test_unreachable_node_gives_backpressure(settings: Settings) -> None:
    unreachable = Elasticsearch(f"http://127.0.0.1:{closed_port()}", max_retries=0)
    retried: list[str] = []
    sink = BulkSink(unreachable, max_retries=2, backoff_base=0.01, on_retry=retried.append)
    with pytest.raises(SinkBackpressure) as caught:
        sink.write([action("u1")], index="anything")
    assert retried == ["unreachable", "unreachable"]
    assert caught.value.retry_after > 0
    unreachable.close()


def test_unserialisable_document_is_rejected_without_a_request(
    es: Elasticsearch, alias: str
) -> None:
    broken = action("s1")._replace(document={"text": object()})
    outcomes = fast_sink(es).write([broken, action("s2")], index=alias)
    assert [o.status for o in outcomes] == ["rejected", "indexed"]
    assert outcomes[0].error is not None
    assert outcomes[0].error["type"] == "serialization_error"


def test_every_field_the_builder_emits_fits_the_mapping(es: Elasticsearch, alias: str) -> None:
    text = "Jo Bloggs of Acme in Leeds: +447700900123 jo@x.org https://x.org AB12CDE LS1 4DY @jo"
    values = {
        EntityType.PERSON: "Jo Bloggs",
        EntityType.ORG: "Acme",
        EntityType.LOCATION: "Leeds",
        EntityType.PHONE: "+447700900123",
        EntityType.EMAIL: "jo@x.org",
        EntityType.URL: "https://x.org",
        EntityType.VEHICLE: "AB12CDE",
        EntityType.POSTCODE: "LS1 4DY",
        EntityType.HANDLE: "@jo",
    }
    mentions = [
        Mention(kind, value, value, text.index(value), text.index(value) + len(value))
        for kind, value in values.items()
    ]
    report = Report(
        source=Source.ONLINE_REFERRAL,
        source_id="full-1",
        received_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        schema_version=2,
        text=text,
        url="https://x.org/page?id=1",
        location=ReportLocation(text="Leeds", postcode="LS1 4DY", lat=53.8, lon=-1.55),
        attributes={
            "channel": "online_form",
            "platform": "forum",
            "referrer_type": "public",
            "handler_id": "h1",
            "duration_s": 61.5,
            "nul_stripped": ["description"],
        },
        restricted={"subject": {"name": "Someone", "age": 17}},
        extra={"anything": [{"goes": True}]},
        origin=Origin(topic="intake.online-referrals", partition=2, offset=9, timestamp_ms=BASE_MS),
    )
    document = build_document(
        report,
        Enrichment.from_mentions(mentions, region="North East"),
        None,
        ingested_at=datetime.now(UTC),
    )
    outcome = fast_sink(es).write(
        [IndexAction(doc_id(report.source, report.source_id), doc_version(report), document)],
        index=alias,
    )
    assert [(o.status, o.error) for o in outcome] == [("indexed", None)]
    es.indices.refresh(index=alias)
    nested = {
        "nested": {
            "path": "entity_mentions",
            "query": {
                "bool": {
                    "filter": [
                        {"term": {"entity_mentions.type": "vehicle"}},
                        {"term": {"entity_mentions.value": "AB12CDE"}},
                    ]
                }
            },
        }
    }
    for query in (
        nested,
        {"term": {"entities.phone": "+447700900123"}},
        {"match": {"entities.person.text": "bloggs"}},
        {"term": {"attributes.platform": "forum"}},
        {"range": {"attributes.duration_s": {"gte": 60}}},
        {"geo_distance": {"distance": "5km", "location.geo": {"lat": 53.8, "lon": -1.55}}},
        {"term": {"location.text.keyword": "Leeds"}},
        {"range": {"event.created": {"gte": "2026-01-01"}}},
    ):
        assert es.count(index=alias, query=query)["count"] == 1, query
