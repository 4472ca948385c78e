"""A public report far longer than NER reads (a pasted article): accepted, indexed whole.

Issue 16: such a report went to the dead-letter topic as `too_long`. Now any narrative that
fits in a record is accepted; NER reads its first NER_MAX_CHARS in pieces, the exact
extractors and the gazetteer read all of it, and the document says `entities_truncated`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bench.extractors import plain_text
from pipeline.enrich.extract import NER_MAX_CHARS, Enricher
from pipeline.enrich.mentions import EntityType
from pipeline.index.document import build_document
from pipeline.ingest.records import RawRecord
from pipeline.ingest.validate import MAX_RECORD_BYTES, parse_record

LENGTH = 300_000
OPENING = "Pasted from a forum. The post was signed by Bartholomew Quince of Harrogate.\n\n"
ENDING = (
    "\n\nIf anyone knows the author, ring 0161  496  0229 or write to tips@example.org; he "
    "drives ab12\u00a0cde and was last seen in Sheffield, near s1  2hh."
)


def long_record() -> tuple[RawRecord, str]:
    middle = plain_text(LENGTH - len(OPENING) - len(ENDING))
    description = OPENING + middle + ENDING
    value = json.dumps(
        {"id": "long-1", "received_at": "2026-12-02T09:00:00Z", "description": description}
    ).encode()
    record = RawRecord(
        topic="intake.public-reports", partition=0, offset=5, key=b"long-1", value=value
    )
    return record, description


def test_a_300000_character_report_is_accepted_enriched_to_its_end_and_marked(
    enricher: Enricher,
) -> None:
    record, description = long_record()
    assert len(description) == LENGTH > 2 * NER_MAX_CHARS
    assert len(record.value or b"") < MAX_RECORD_BYTES

    report = parse_record(record)  # no too_long: the narrative has no limit of its own
    assert report.text == description
    [enrichment] = enricher.enrich([report])

    near_end = LENGTH - len(ENDING)
    found = {(m.type, m.value) for m in enrichment.mentions if m.start >= near_end}
    assert found >= {
        (EntityType.PHONE, "+441614960229"),
        (EntityType.EMAIL, "tips@example.org"),
        (EntityType.VEHICLE, "AB12CDE"),
        (EntityType.POSTCODE, "S1 2HH"),
        (EntityType.LOCATION, "Sheffield"),  # from the gazetteer, which reads it all
    }
    people = [m for m in enrichment.mentions if m.type is EntityType.PERSON]
    assert any(m.value == "Bartholomew Quince" for m in people)  # NER read the beginning
    assert max(m.end for m in people) <= NER_MAX_CHARS  # and no further
    for mention in enrichment.mentions:
        assert description[mention.start : mention.end] == mention.text
    assert enrichment.truncated

    document = build_document(report, enrichment, None, ingested_at=datetime.now(UTC))
    assert document["text"] == description
    assert document["entities_truncated"] is True
    assert "+441614960229" in document["entities"]["phone"]
