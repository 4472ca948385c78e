"""The folded copy the phone, plate and postcode patterns read: same length, ASCII where it can."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.enrich.exact.fold import fold


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("0161\u00a0496\u2009\u202f0229", "0161 496  0229"),
        ("\uff10\uff11\uff16\uff11 \uff21\uff22\uff43", "0161 ABc"),
        ("\uff0d\uff0e\uff0f\uff08\uff09\uff0b", "-./()+"),
        ("0161\u2013496\u2014x\u2212y\u2010z", "0161-496-x-y-z"),
        ("a\u200bb\u2060c\ufeffd\u00ade", "a b c d e"),
        ("\u3000\u2028\u2029\x85", "    "),
        ("\u0660\u0661\u0969", "013"),  # Arabic-Indic and Devanagari digits
        ("caf\u00e9 \u00e9t\u00e9 \u0645\u0631\u062d\u0628\u0627 \U0001f690", None),  # unchanged
    ],
)
def test_folds(text: str, folded: str | None) -> None:
    assert fold(text) == (text if folded is None else folded)


def test_ascii_text_is_returned_as_it_is() -> None:
    text = "Ring 0161 496 0229\tnow.\n"
    assert fold(text) is text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_same_length_and_ascii_stays_put(text: str) -> None:
    folded = fold(text)
    assert len(folded) == len(text)
    for before, after in zip(text, folded, strict=True):
        if before.isascii():
            assert after == before
        elif after != before:
            assert after.isascii()
    assert fold(folded) == folded
