"""A document's derived priority: from what analysts see (a caller's own number is no lead)."""

from __future__ import annotations

from test_document import INGESTED, OWN_CALLER, OWN_TEXT, make_report, own_enrichment

from pipeline.enrich.mentions import Enrichment, EntityType, Mention
from pipeline.index.document import build_document


def test_the_callers_own_phone_masked_in_the_text_adds_no_priority() -> None:
    report = make_report(text=OWN_TEXT, restricted=OWN_CALLER)
    document = build_document(report, own_enrichment(), None, ingested_at=INGESTED)
    # a hotline call naming a vehicle; the caller's own phone is masked, so it does not count
    assert document["priority"] == 4
    assert document["priority_reasons"] == ["hotline_call", "vehicle"]


def test_a_report_with_no_reason_has_priority_zero_and_no_reasons() -> None:
    report = make_report(source="public_report", text="Nothing to trace here.")
    document = build_document(report, Enrichment(), None, ingested_at=INGESTED)
    assert document["priority"] == 0
    assert "priority_reasons" not in document


def test_a_proscribed_organisation_counts() -> None:
    text = "Flyers for National Action were left at the station."
    mention = Mention(EntityType.PROSCRIBED_ORG, "National Action", "National Action", 11, 26)
    enrichment = Enrichment.from_mentions([mention], None)
    report = make_report(source="public_report", text=text)
    document = build_document(report, enrichment, None, ingested_at=INGESTED)
    assert (document["priority"], document["priority_reasons"]) == (4, ["proscribed_org"])
