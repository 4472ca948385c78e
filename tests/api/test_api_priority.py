"""A regional unit's queue: highest derived priority first, newest first among equals, paged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from api_support import Api, Corpus, Sample, index_samples
from elasticsearch import Elasticsearch

from pipeline.enrich.mentions import EntityType
from pipeline.ingest.sources import Source
from pipeline.settings import Settings

pytestmark = pytest.mark.integration


def _sample(name: str, source: Source, hour: int, *mentions: tuple[EntityType, str]) -> Sample:
    text = f"Report {name}: " + " ".join(surface for _, surface in mentions)
    return Sample(
        name,
        source,
        name,
        datetime(2026, 11, 5, hour, tzinfo=UTC),
        text,
        tuple((kind, surface, surface) for kind, surface in mentions),
        "Scotland",
        f"cluster-{name}",
    )


QUEUE = (
    _sample("plain-new", Source.PUBLIC_REPORT, 12),  # 0
    _sample("org-old", Source.PUBLIC_REPORT, 1, (EntityType.PROSCRIBED_ORG, "National Action")),
    _sample("call-phone", Source.HOTLINE_CALL, 5, (EntityType.PHONE, "+447700900321")),  # 3
    _sample("call-later", Source.HOTLINE_CALL, 9, (EntityType.PHONE, "+447700900654")),  # 3
    _sample("vehicle", Source.PUBLIC_REPORT, 3, (EntityType.VEHICLE, "AB12CDE")),  # 2
)


@pytest.fixture
def corpus(es: Elasticsearch, api_settings: Settings) -> Corpus:
    return Corpus(api_settings, index_samples(es, api_settings, QUEUE))


def test_the_queue_is_highest_priority_first_then_newest(api: Api, corpus: Corpus) -> None:
    params = {"region": "Scotland", "sort": "priority", "collapse": "false", "size": 2}
    first = api.get("/api/search", params=params).json()
    second = api.get("/api/search", params={**params, "cursor": first["next_cursor"]}).json()
    third = api.get("/api/search", params={**params, "cursor": second["next_cursor"]}).json()
    order = [r["source_id"] for page in (first, second, third) for r in page["results"]]
    assert order == ["org-old", "call-later", "call-phone", "vehicle", "plain-new"]
    shown = {r["source_id"]: r for page in (first, second, third) for r in page["results"]}
    assert shown["org-old"]["priority"] == 4
    assert shown["org-old"]["priority_reasons"] == ["proscribed_org"]
    assert shown["call-phone"]["priority_reasons"] == ["hotline_call", "phone"]
    assert shown["plain-new"]["priority"] == 0
    assert shown["plain-new"]["priority_reasons"] == []


def test_a_document_from_before_the_field_sorts_as_priority_zero(
    api: Api, es: Elasticsearch, corpus: Corpus
) -> None:
    es.update(
        index=corpus.settings.index_alias,
        id=corpus.ids["org-old"],
        doc={"priority": None, "priority_reasons": None},
        refresh="wait_for",
    )
    params = {"region": "Scotland", "sort": "priority", "collapse": "false", "size": 10}
    order = [r["source_id"] for r in api.get("/api/search", params=params).json()["results"]]
    assert order == ["call-later", "call-phone", "vehicle", "plain-new", "org-old"]
