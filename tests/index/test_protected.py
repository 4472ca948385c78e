"""Protected narrative fields: older documents masked on reindex, nothing restricted searchable."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from pipeline.enrich.mentions import Enrichment, EntityType, Mention
from pipeline.index.document import build_document, doc_id
from pipeline.index.mapping import ensure_index, resolve_alias
from pipeline.index.protected import protect_source
from pipeline.index.reindex import reindex_from_index
from pipeline.ingest.report import Origin, Report
from pipeline.ingest.sources import Source
from pipeline.settings import Settings

TEXT = "My name is Fatima Khan, ring 07700 900123. The van was AB12 CDE."
CALLER = {"caller": {"name": "Fatima Khan", "phone": "+447700900123"}}
MASKED = "My name is [caller name], ring [caller phone]. The van was AB12 CDE."
SECRETS = ("Fatima", "Khan", "900123")


def mention(kind: EntityType, surface: str, value: str) -> Mention:
    start = TEXT.index(surface)
    return Mention(kind, surface, value, start, start + len(surface))


MENTIONS = [
    mention(EntityType.PERSON, "Fatima Khan", "Fatima Khan"),
    mention(EntityType.PHONE, "07700 900123", "+447700900123"),
    mention(EntityType.VEHICLE, "AB12 CDE", "AB12CDE"),
]


def old_source() -> dict[str, Any]:
    """A document as version 1 of the mapping stored it: the narrative as written."""
    return {
        "source": "hotline_call",
        "source_id": "old-1",
        "@timestamp": "2026-03-01T09:30:00+00:00",
        "text": TEXT,
        "entities": {
            "person": ["Fatima Khan"],
            "phone": ["+447700900123"],
            "vehicle": ["AB12CDE"],
            "proscribed_org": ["Example Banned Group"],
        },
        "entity_mentions": [
            {"type": m.type.value, "text": m.text, "value": m.value, "start": m.start, "end": m.end}
            for m in MENTIONS
        ],
        "restricted": copy.deepcopy(CALLER),
        "duplicate": False,
    }


def test_protect_source_masks_an_older_document() -> None:
    source = old_source()
    protected = protect_source(source)
    assert protected["text"] == MASKED
    assert protected["entities"] == {
        "vehicle": ["AB12CDE"],
        "proscribed_org": ["Example Banned Group"],
    }
    [vehicle] = protected["entity_mentions"]
    assert protected["text"][vehicle["start"] : vehicle["end"]] == "AB12 CDE"
    assert protected["restricted"]["text"] == TEXT
    assert protected["restricted"]["caller"] == CALLER["caller"]
    assert source == old_source()  # the input is not changed


def test_protect_source_is_idempotent_and_leaves_other_documents_alone() -> None:
    once = protect_source(old_source())
    assert protect_source(once) == once
    plain = {**old_source(), "restricted": {}}
    assert protect_source(plain) is plain
    without = {k: v for k, v in old_source().items() if k != "restricted"}
    assert protect_source(without) is without


def test_protect_source_moves_or_masks_mentions_of_unknown_types() -> None:
    source = old_source()
    start = TEXT.index("AB12")
    source["entity_mentions"] += [
        {"type": "future", "text": "AB12", "value": "x", "start": start, "end": start + 4},
        {"type": "future", "text": "Khan", "value": "Khan", "start": 17, "end": 21},
    ]
    source["entities"]["future"] = ["x", "Khan"]
    protected = protect_source(source)
    moved = [m for m in protected["entity_mentions"] if m["type"] == "future"]
    assert [protected["text"][m["start"] : m["end"]] for m in moved] == ["AB12"]
    assert protected["entities"]["future"] == ["x"]
    hidden = [m for m in protected["restricted"]["entity_mentions"] if m["type"] == "future"]
    assert [(m["value"], m["field"]) for m in hidden] == [("Khan", "caller.name")]


def test_protect_source_leaves_unreadable_mentions_alone() -> None:
    source = {**old_source(), "entity_mentions": [{"type": "person"}]}
    assert protect_source(source) is source


@pytest.fixture
def alias_settings(settings: Settings, index_factory: Callable[[str], str]) -> Settings:
    return settings.model_copy(update={"index_alias": index_factory("prot")})


def report(source_id: str) -> Report:
    return Report(
        source=Source.HOTLINE_CALL,
        source_id=source_id,
        received_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        text=TEXT,
        restricted=CALLER,
        origin=Origin(topic="intake.hotline-calls", partition=0, offset=1, timestamp_ms=1),
    )


def matches(es: Elasticsearch, index: str, query: str) -> int:
    body = {"query": {"query_string": {"query": query, "fields": ["*"], "lenient": True}}}
    return int(es.count(index=index, body=body)["count"])


@pytest.mark.integration
def test_nothing_restricted_is_searchable_in_any_field(
    es: Elasticsearch, alias_settings: Settings
) -> None:
    index = ensure_index(es, alias_settings)
    document = build_document(
        report("r1"), Enrichment.from_mentions(MENTIONS, None), None, ingested_at=datetime.now(UTC)
    )
    es.index(index=index, id=doc_id("hotline_call", "r1"), document=document, refresh=True)

    assert matches(es, index, "van") == 1  # the document is searchable
    for secret in (*SECRETS, "Fatima Khan", "+447700900123", "447700900123"):
        assert matches(es, index, f'"{secret}"') == 0, secret
    for field in ("entities.person", "entities.phone", "entity_mentions.value"):
        body = {"query": {"exists": {"field": field}}}
        if field.startswith("entity_mentions"):
            body = {"query": {"nested": {"path": "entity_mentions", **body}}}
        hits = es.search(index=index, body=body)["hits"]["total"]["value"]
        assert hits == (1 if field == "entity_mentions.value" else 0), field
    stored = es.get(index=index, id=doc_id("hotline_call", "r1"))["_source"]
    assert stored["restricted"]["text"] == TEXT


@pytest.mark.integration
def test_reindex_masks_documents_written_before_masking(
    es: Elasticsearch, alias_settings: Settings
) -> None:
    old = ensure_index(es, alias_settings)
    document = old_source()
    del document["entities"]["proscribed_org"]  # a field of another change, not mapped here
    es.index(index=old, id="old-1", document=document, version=5, version_type="external")
    es.indices.refresh(index=old)
    assert matches(es, old, "Khan") == 1

    result = reindex_from_index(es, alias_settings)

    [new] = resolve_alias(es, alias_settings.index_alias)
    assert new == result.new_index != old
    stored = es.get(index=new, id="old-1")
    assert stored["_version"] == 5
    assert stored["_source"]["text"] == MASKED
    assert stored["_source"]["restricted"]["text"] == TEXT
    assert matches(es, new, "Khan") == 0
