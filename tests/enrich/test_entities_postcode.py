"""UK postcodes: every outward shape, GIR 0AA, any case and spacing; look-alikes turned away."""

from __future__ import annotations

import pytest

from pipeline.enrich.exact import extract_postcode, normalise_postcode
from pipeline.enrich.exact.postcode import postcode_area
from pipeline.enrich.locate import derive_region


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
        # odd spacing, case and wide forms (issue 16)
        ("at cb2  1tn", "CB2 1TN"),
        ("at Cb2\t1Tn", "CB2 1TN"),
        ("at SW1A\u00a01AA.", "SW1A 1AA"),
        ("at SW1A\u20091AA", "SW1A 1AA"),
        ("lives at m1\n1ae\nsince", "M1 1AE"),
        ("\uff23\uff22\uff12 \uff11\uff34\uff2e", "CB2 1TN"),
        ("cb\uff12 \uff11tn", "CB2 1TN"),
        ("gir  0aa", "GIR 0AA"),
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
        "AB12\tCDE",
        "QQ1\u00a01AA",
        "sw1a  1ca",
        "M1-1AE",
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


def test_offsets_point_into_the_text_as_written() -> None:
    text = "Lives at \uff23\uff22\uff12\u3000\uff11\uff34\uff2e, or cb2\t\t1tn."
    mentions = extract_postcode(text)
    assert [m.text for m in mentions] == [
        "\uff23\uff22\uff12\u3000\uff11\uff34\uff2e",
        "cb2\t\t1tn",
    ]
    for mention in mentions:
        assert text[mention.start : mention.end] == mention.text


def test_normalise_folds_wide_forms_and_any_spacing() -> None:
    assert normalise_postcode("\uff53\uff57\uff11\uff41\u00a0\uff11\uff41\uff41") == "SW1A 1AA"
    assert normalise_postcode("cb2 \t 1tn") == "CB2 1TN"


def test_the_region_follows_a_postcode_written_oddly() -> None:
    mentions = extract_postcode("bag left outside cb2  1tn at 3pm")
    assert derive_region(mentions) == "Eastern"
    assert derive_region([], location_postcode="cb2\u00a0 1tn") == "Eastern"
    assert derive_region([], location_text="near m1\t1ae") == "North West"
