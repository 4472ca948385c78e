"""Snowball stems of report text and query words: the same cut and the same stem on both sides."""

from __future__ import annotations

import pytest

from pipeline.enrich.stems import stem, stems_text


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("stations", "station"),
        ("Bags", "bag"),
        ("filming", "film"),
        ("driver's", "driver"),
        ("driver\u2019s", "driver"),
        ("AB12", "ab12"),
    ],
)
def test_a_word_stems_to_its_lowercased_stem(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_text_becomes_its_stems_in_order_without_punctuation() -> None:
    assert stems_text("Two bags, left at the stations; AB12 CDE.") == (
        "two bag left at the station ab12 cde"
    )
    assert stems_text("") == ""
    assert stems_text(stems_text("running stations")) == stems_text("running stations")
