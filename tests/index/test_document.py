"""Unit tests for document ids, external versions and `_source` building."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.mentions import Enrichment, EntityType, Mention
from pipeline.index.document import MAX_INDEXED_MENTIONS, build_document, doc_id, doc_version
from pipeline.ingest.report import Origin, Report, ReportLocation
from pipeline.ingest.sources import Source

RECEIVED = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))
INGESTED = datetime(2026, 3, 1, 9, 31, 5, tzinfo=UTC)


def make_report(**changes: object) -> Report:
    fields: dict[str, object] = {
        "source": Source.HOTLINE_CALL,
        "source_id": "call-42",
        "received_at": RECEIVED,
        "text": "Caller saw AB12 CDE outside the station, ring 020 7946 0123",
        "origin": Origin(
            topic="intake.hotline-calls", partition=3, offset=77, timestamp_ms=1_772_353_800_123
        ),
    }
    fields.update(changes)
    return Report.model_validate(fields)


def test_doc_id_is_deterministic_url_safe_and_per_pair() -> None:
    first = doc_id("public_report", "r-1")
    assert first == doc_id("public_report", "r-1")
    assert re.fullmatch(r"[0-9a-f]{40}", first)
    assert doc_id("hotline_call", "r-1") != first
    assert doc_id("public_report", "r-2") != first
    # ids full of characters that need escaping still give a URL-safe id of fixed length
    assert re.fullmatch(r"[0-9a-f]{40}", doc_id("online_referral", "a/b?c=d#é " * 100))


def test_doc_id_pairs_cannot_collide_by_concatenation() -> None:
    assert doc_id("public_report", "x:y") != doc_id("public_report:x", "y")
    assert doc_id("public_report", "xy") != doc_id("public_repor", "txy")


def test_doc_version_is_the_kafka_record_time() -> None:
    assert doc_version(make_report()) == 1_772_353_800_123


@pytest.mark.parametrize("timestamp_ms", [None, -1])
def test_doc_version_falls_back_to_received_at(timestamp_ms: int | None) -> None:
    origin = Origin(topic="t", partition=0, offset=0, timestamp_ms=timestamp_ms)
    assert doc_version(make_report(origin=origin)) == int(RECEIVED.timestamp() * 1000)


def test_resend_is_newer_and_replay_is_older() -> None:
    original = make_report()
    resent = make_report(
        origin=original.origin.model_copy(update={"timestamp_ms": 1_772_353_900_000})
    )
    assert doc_version(resent) > doc_version(original)
    assert doc_version(make_report()) == doc_version(original)


def replayed(own_ms: int | None, first_ms: int | None) -> Report:
    """The report as read from a replay: its own Kafka time and its original's (the header)."""
    origin = Origin(
        topic="t", partition=1, offset=9, timestamp_ms=own_ms, first_timestamp_ms=first_ms
    )
    return make_report(origin=origin)


def test_a_replay_has_its_originals_version_not_its_own_newer_timestamp() -> None:
    original = make_report()
    later_revision = make_report(
        origin=original.origin.model_copy(update={"timestamp_ms": 1_772_353_900_000})
    )
    replay = replayed(1_772_400_000_000, original.origin.timestamp_ms)
    assert doc_version(replay) == doc_version(original)
    assert doc_version(replay) < doc_version(later_revision)  # so it ends `stale`
    # replayed again (and again): the header travels, the version does not move
    assert doc_version(replayed(1_772_500_000_000, original.origin.timestamp_ms)) == doc_version(
        original
    )


def test_the_header_can_only_lower_a_version() -> None:
    # a forged or copied header from the future never lets a record beat a later revision
    assert doc_version(replayed(1_772_353_800_123, 9_000_000_000_000)) == 1_772_353_800_123


@pytest.mark.parametrize("own_ms", [None, -1])
def test_a_replay_without_its_own_timestamp_still_has_its_originals(own_ms: int | None) -> None:
    assert doc_version(replayed(own_ms, 1_772_353_800_123)) == 1_772_353_800_123


def test_a_garbled_or_negative_header_falls_back_to_the_records_own_time() -> None:
    assert doc_version(replayed(1_772_353_800_123, -5)) == 1_772_353_800_123
    assert doc_version(replayed(None, None)) == int(RECEIVED.timestamp() * 1000)


def test_build_document_minimal_report_has_no_nulls() -> None:
    document = build_document(make_report(), Enrichment(), None, ingested_at=INGESTED)
    assert document == {
        "source": "hotline_call",
        "source_id": "call-42",
        "@timestamp": "2026-03-01T09:30:00+01:00",
        "schema_version": 1,
        "text": "Caller saw AB12 CDE outside the station, ring 020 7946 0123",
        "text_stems": "caller saw ab12 cde outsid the station ring 020 7946 0123",
        "entities": {},
        "entity_mentions": [],
        "duplicate": False,
        "kafka": {"topic": "intake.hotline-calls", "partition": 3, "offset": 77},
        "event": {
            "ingested": "2026-03-01T09:31:05+00:00",
            "created": "2026-03-01T08:30:00.123+00:00",
        },
        "review_date": "2032-03-01",  # a hotline call: six years after receipt (the policy)
        "priority": 2,  # a hotline call (`pipeline.enrich.priority`)
        "priority_reasons": ["hotline_call"],
    }


def test_build_document_full_report() -> None:
    report = make_report(
        url="https://example.org/x",
        location=ReportLocation(text="Leeds station", postcode="LS1 4DY", lat=53.79, lon=-1.54),
        attributes={"duration_s": 95, "handler_id": "h7"},
        restricted={"caller": {"name": "Ann Smith", "phone": "+442079460999"}},
        extra={"campaign": {"code": 3}},
    )
    mentions = [
        Mention(EntityType.PHONE, "020 7946 0123", "+442079460123", 46, 59),
        Mention(EntityType.VEHICLE, "AB12 CDE", "AB12CDE", 11, 19),
    ]
    enrichment = Enrichment.from_mentions(mentions, region="North East")
    cluster = ClusterAssignment(cluster_id="c-9", duplicate=True)
    document = build_document(report, enrichment, cluster, ingested_at=INGESTED)

    assert document["entities"] == {"vehicle": ["AB12CDE"], "phone": ["+442079460123"]}
    assert document["entity_mentions"][0] == {
        "type": "vehicle",
        "text": "AB12 CDE",
        "value": "AB12CDE",
        "start": 11,
        "end": 19,
    }
    assert document["cluster_id"] == "c-9"
    assert document["duplicate"] is True
    assert document["region"] == "North East"
    assert document["url"] == "https://example.org/x"
    assert document["location"] == {
        "text": "Leeds station",
        "postcode": "LS1 4DY",
        "geo": {"lat": 53.79, "lon": -1.54},
    }
    assert document["attributes"] == {"duration_s": 95, "handler_id": "h7"}
    assert document["restricted"] == {"caller": {"name": "Ann Smith", "phone": "+442079460999"}}
    assert document["extra"] == {"campaign": {"code": 3}}


def test_location_without_both_coordinates_has_no_geo_point() -> None:
    report = make_report(location=ReportLocation(postcode="LS1 4DY", lat=53.79))
    document = build_document(report, Enrichment(), None, ingested_at=INGESTED)
    assert document["location"] == {"postcode": "LS1 4DY"}


def test_empty_location_is_left_out() -> None:
    document = build_document(
        make_report(location=ReportLocation()), Enrichment(), None, ingested_at=INGESTED
    )
    assert "location" not in document


def test_naive_ingested_at_is_taken_as_utc() -> None:
    naive = datetime(2026, 3, 1, 9, 31, 5)
    document = build_document(make_report(), Enrichment(), None, ingested_at=naive)
    assert document["event"]["ingested"] == "2026-03-01T09:31:05+00:00"


def test_document_does_not_alias_report_dicts() -> None:
    report = make_report(attributes={"channel": "officer"})
    document = build_document(report, Enrichment(), None, ingested_at=INGESTED)
    document["attributes"]["channel"] = "changed"
    assert report.attributes == {"channel": "officer"}


# The caller's own name and number, written in the narrative: analysts must never read them.
OWN_TEXT = "Caller Fatima Khan (07700 900123) saw AB12 CDE; KHAN Fatima will ring back."
OWN_CALLER = {"caller": {"name": "Fatima Khan", "phone": "07700 900 123"}}


def own_enrichment() -> Enrichment:
    spans = [
        (EntityType.PERSON, "Fatima Khan", "Fatima Khan"),
        (EntityType.PHONE, "07700 900123", "+447700900123"),
        (EntityType.VEHICLE, "AB12 CDE", "AB12CDE"),
    ]
    mentions = [
        Mention(
            kind, surface, value, OWN_TEXT.index(surface), OWN_TEXT.index(surface) + len(surface)
        )
        for kind, surface, value in spans
    ]
    return Enrichment.from_mentions(mentions, region=None)


def test_callers_own_values_are_masked_in_text_entities_and_mentions() -> None:
    report = make_report(text=OWN_TEXT, restricted=OWN_CALLER)
    document = build_document(report, own_enrichment(), None, ingested_at=INGESTED)

    assert document["text"] == (
        "Caller [caller name] ([caller phone]) saw AB12 CDE; [caller name] will ring back."
    )
    assert document["entities"] == {"vehicle": ["AB12CDE"]}
    assert document["entity_mentions"] == [
        {"type": "vehicle", "text": "AB12 CDE", "value": "AB12CDE", "start": 42, "end": 50}
    ]
    assert document["text"][42:50] == "AB12 CDE"
    analysts_see = {key: value for key, value in document.items() if key != "restricted"}
    for secret in ("Fatima", "Khan", "FATIMA", "KHAN", "900123", "7700900123"):
        assert secret not in str(analysts_see)
    # the stems are of the masked text, never of the narrative as written
    assert (
        document["text_stems"]
        == "caller caller name caller phone saw ab12 cde caller name will ring back"
    )
    assert not {"fatima", "khan", "900123"} & set(document["text_stems"].split())


def test_restricted_part_keeps_the_narrative_as_written() -> None:
    report = make_report(text=OWN_TEXT, restricted=OWN_CALLER)
    restricted = build_document(report, own_enrichment(), None, ingested_at=INGESTED)["restricted"]

    assert restricted["caller"] == OWN_CALLER["caller"]
    assert restricted["text"] == OWN_TEXT
    assert restricted["entities"] == {"person": ["Fatima Khan"], "phone": ["+447700900123"]}
    fields = [(m["field"], OWN_TEXT[m["start"] : m["end"]]) for m in restricted["entity_mentions"]]
    assert fields == [
        ("caller.name", "Fatima Khan"),
        ("caller.phone", "07700 900123"),
        ("caller.name", "KHAN Fatima"),
    ]


def test_nothing_restricted_in_the_text_adds_no_copy_of_it() -> None:
    report = make_report(restricted={"caller": {"name": "Ann Smith"}})
    document = build_document(report, Enrichment(), None, ingested_at=INGESTED)
    assert document["text"] == report.text
    assert document["restricted"] == {"caller": {"name": "Ann Smith"}}


def test_entities_truncated_only_when_ner_stopped_short() -> None:
    # contract v2: true when a narrative was too long for every model to read whole; left out
    # (like every field that carries nothing) otherwise
    whole = build_document(make_report(), Enrichment(), None, ingested_at=INGESTED)
    assert "entities_truncated" not in whole
    cut = build_document(make_report(), Enrichment(truncated=True), None, ingested_at=INGESTED)
    assert cut["entities_truncated"] is True


def test_every_top_level_field_of_a_document_is_mapped() -> None:
    # the mapping's root is strict: a field it does not name would fail the whole document
    from pipeline.index.mapping import mappings

    report = make_report(
        location=ReportLocation(text="Leeds", postcode="LS1 4AP", lat=53.8, lon=-1.5),
        attributes={"channel": "online_form"},
        extra={"x": 1},
        url="https://example.com",
    )
    cluster = ClusterAssignment(cluster_id="c1", duplicate=True)
    enrichment = Enrichment(region="North East", truncated=True)
    document = build_document(report, enrichment, cluster, ingested_at=INGESTED)
    assert set(document) <= set(mappings()["properties"])
    assert mappings()["properties"]["entities_truncated"] == {"type": "boolean"}


def test_more_mentions_than_elasticsearch_nests_are_cut_and_said() -> None:
    count = MAX_INDEXED_MENTIONS + 7
    numbers = [f"0161 496 {n:04d}" for n in range(count)]
    text = " ".join(numbers)
    mentions, start = [], 0
    for n, surface in enumerate(numbers):
        value = f"+44161496{n:04d}"
        mentions.append(Mention(EntityType.PHONE, surface, value, start, start + len(surface)))
        start += len(surface) + 1
    document = build_document(
        make_report(text=text),
        Enrichment.from_mentions(mentions, region=None),
        None,
        ingested_at=INGESTED,
    )
    assert len(document["entity_mentions"]) == MAX_INDEXED_MENTIONS
    assert document["entity_mentions"][-1]["value"] == f"+44161496{MAX_INDEXED_MENTIONS - 1:04d}"
    assert len(document["entities"]["phone"]) == count  # every value still searchable
    assert document["entities_truncated"] is True
    few = build_document(
        make_report(text=text),
        Enrichment.from_mentions(mentions[:3], None),
        None,
        ingested_at=INGESTED,
    )
    assert "entities_truncated" not in few
