"""What a reindex from the old index does to each document on the way (no node needed)."""

from __future__ import annotations

from pipeline.enrich.stems import stems_text
from pipeline.index.reindex import _upgraded


def test_a_document_from_before_stems_gets_the_stems_of_its_text() -> None:
    old = {"source": "public_report", "source_id": "r1", "text": "Two bags left at the stations"}
    upgraded = _upgraded(old)
    assert upgraded["text_stems"] == stems_text(old["text"])
    assert "text_stems" not in old  # the scanned hit is not changed in place


def test_a_document_that_has_stems_keeps_them() -> None:
    current = {"text": "bags", "text_stems": "kept as written"}
    assert _upgraded(current) == current


def test_a_document_without_text_gets_no_stems_but_its_priority() -> None:
    assert _upgraded({"source": "online_referral", "url": "https://example.org/"}) == {
        "source": "online_referral",
        "url": "https://example.org/",
        "priority": 0,
    }


def test_an_older_document_gets_its_derived_priority_once() -> None:
    older = {"source": "hotline_call", "text": "x", "entities": {"phone": ["+447700900123"]}}
    upgraded = _upgraded(older)
    assert (upgraded["priority"], upgraded["priority_reasons"]) == (3, ["hotline_call", "phone"])
    assert _upgraded({**upgraded, "priority": 9})["priority"] == 9  # a stored one stays
