"""UK postcodes: every outward shape, GIR 0AA, any case and spacing; look-alikes turned away."""

from __future__ import annotations

import pytest

from pipeline.enrich.exact import extract_postcode, normalise_postcode
from pipeline.enrich.exact.postcode import postcode_area


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("at M1 1AE", "M1 1AE"),
        ("at M60 1NW", "M60 1NW"),
        ("at CR2 6XH", "CR2 6XH"),
        ("at DN55 1PT", "DN55 1PT"),
        ("at W1A 0AX", "W1A 0AX"),
        ("at EC1A 1BB", "EC1A 1BB"),
        ("at SW1A 1AA.", "SW1A 1AA"),
        ("at sw1a 1aa", "SW1A 1AA"),
        ("at SW1A1AA", "SW1A 1AA"),
        ("(BT1 5GS)", "BT1 5GS"),
        ("GIR 0AA", "GIR 0AA"),
        ("ls11 5ab,", "LS11 5AB"),
    ],
)
def test_postcodes(text: str, expected: str) -> None:
    assert [m.value for m in extract_postcode(text)] == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "AB12 CDE",  # a registration
        "A1 1AA",  # no area "A"
        "QQ1 1AA",
        "SW1A 1CA",  # C is never an inward letter
        "M1",
        "LS11",
        "the M62",
        "12/03/2024",
        "XSW1A 1AAX",
    ],
)
def test_not_postcodes(text: str) -> None:
    assert extract_postcode(text) == []


def test_normalise() -> None:
    assert normalise_postcode("  sw1a1aa ") == "SW1A 1AA"
    assert normalise_postcode("SW1A 1AA") == "SW1A 1AA"
    assert normalise_postcode("not one") is None


def test_area() -> None:
    assert postcode_area("SW1A 1AA") == "SW"
    assert postcode_area("m1 1ae") == "M"
    assert postcode_area("B11 1AA") == "B"
