"""The Enricher on real sentences, with the real spaCy model (loaded once per session)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

from bench.extractors import plain_text
from pipeline.enrich.extract import NER_MAX_CHARS, Enricher
from pipeline.enrich.mentions import Enrichment, EntityType
from pipeline.enrich.ner import NER_CHUNK_CHARS
from pipeline.ingest.report import Origin, Report, ReportLocation
from pipeline.ingest.sources import Source


def report(text: str, location: ReportLocation | None = None, n: int = 0) -> Report:
    return Report(
        source=Source.HOTLINE_CALL,
        source_id=f"h-{n}",
        received_at=datetime(2024, 3, 12, 10, 30, tzinfo=UTC),
        text=text,
        location=location,
        origin=Origin(topic="intake.hotline-calls", partition=0, offset=n),
    )


def test_a_hotline_summary(enricher: Enricher) -> None:
    text = (
        "Caller John Smith reports a man photographing Manchester Piccadilly station. "
        "The man drove off in AB12 CDE. Call back on 07700 900123 or js@example.com."
    )
    [result] = enricher.enrich([report(text)])
    assert result.entities["person"] == ["John Smith"]
    assert "Manchester" in result.entities["location"][0]
    assert result.entities["vehicle"] == ["AB12CDE"]
    assert result.entities["phone"] == ["+447700900123"]
    assert result.entities["email"] == ["js@example.com"]
    assert result.region == "North West"
    for mention in result.mentions:
        assert text[mention.start : mention.end] == mention.text


def test_batch_keeps_order_and_uses_location_fields(enricher: Enricher) -> None:
    reports = [
        report(
            "A van parked near the mosque for three days.", ReportLocation(postcode="cf10 1ep"), 1
        ),
        report("Nothing of note.", ReportLocation(text="outside the Arndale, Manchester"), 2),
        report("Leaflets left at a church in Leeds by Sarah Jones.", None, 3),
        report("", None, 4),
    ]
    results = enricher.enrich(reports)
    assert [r.region for r in results] == ["Wales", "North West", "North East", None]
    assert results[2].entities["person"] == ["Sarah Jones"]
    assert results[3] == Enrichment.from_mentions([], None)


def test_ner_mentions_never_overlap_exact_ones(enricher: Enricher) -> None:
    text = "Ring Acme Ltd on 0161 496 0123 about LS1 4AP and AB12 CDE."
    [result] = enricher.enrich_texts([text])
    spans = sorted((m.start, m.end) for m in result.mentions)
    for (_, end), (start, _) in pairwise(spans):
        assert end <= start
    assert result.entities["postcode"] == ["LS1 4AP"]


def test_very_long_text_is_bounded_but_offsets_stay_true(enricher: Enricher) -> None:
    tail = " Call 07700 900123 about Jane Doe in Leeds."
    text = "word " * (NER_MAX_CHARS // 5) + tail
    [result] = enricher.enrich_texts([text])
    assert result.entities["phone"] == ["+447700900123"]  # exact extractors see it all
    assert result.entities["location"] == ["Leeds"]  # and so does the gazetteer
    assert "person" not in result.entities  # NER stopped short of Jane Doe ...
    assert result.truncated  # ... and says so
    for mention in result.mentions:
        assert text[mention.start : mention.end] == mention.text


def paragraphs(n: int) -> str:
    """`n` characters of report prose in paragraphs (bench.enrich's generator)."""
    return plain_text(n)


def test_ner_reads_a_long_text_in_pieces_with_offsets_into_the_whole(enricher: Enricher) -> None:
    # Names in the first, a middle and the last piece NER reads, each found where it is.
    names = ["Imogen Blackwood", "Tobias Fairweather", "Ruth Okonkwo-Hale"]
    parts = [paragraphs(2_000), paragraphs(NER_CHUNK_CHARS * 4), paragraphs(NER_CHUNK_CHARS * 4)]
    text = ""
    for name, part in zip(names, parts, strict=True):
        text += f"{part}\n\nThe caller named the man as {name}, who lives nearby.\n\n"
    assert NER_CHUNK_CHARS * 8 < len(text) < NER_MAX_CHARS
    [result] = enricher.enrich_texts([text])
    assert not result.truncated
    people = {m.value: m for m in result.mentions if m.type is EntityType.PERSON}
    for name in names:
        assert name in people, name
        mention = people[name]
        assert text[mention.start : mention.end] == mention.text == name
    assert people[names[2]].start > NER_CHUNK_CHARS * 8  # read, and placed, past many pieces


def test_a_text_just_over_the_limit_with_only_space_beyond_is_not_truncated(
    enricher: Enricher,
) -> None:
    text = "word " * (NER_MAX_CHARS // 5 - 10) + "Call Jane Doe." + " \n" * 100
    assert len(text) > NER_MAX_CHARS
    [result] = enricher.enrich_texts([text])
    assert not result.truncated


def test_places_the_model_misses_come_from_the_gazetteer(enricher: Enricher) -> None:
    text = "MAN SHOUTING ABOUT BOMBS ON THE HIGH STREET IN CROYDON, CALL 07700 900111"
    [result] = enricher.enrich_texts([text])
    assert "Croydon" in result.entities["location"]
    assert result.region == "London"
