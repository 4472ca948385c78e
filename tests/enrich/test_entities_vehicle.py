"""Vehicle registrations: current, prefix, suffix and Northern Ireland formats."""

from __future__ import annotations

import pytest

from pipeline.enrich.exact import extract_vehicle, normalise_vehicle


def values(text: str) -> list[str]:
    return [m.value for m in extract_vehicle(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reg AB12 CDE seen", "AB12CDE"),
        ("reg AB12CDE seen", "AB12CDE"),
        ("reg ab12 cde seen", "AB12CDE"),
        ("reg ab12cde.", "AB12CDE"),
        ("REG KX63 PLU", "KX63PLU"),
        ("the car was AB 12 CDE", "AB12CDE"),
        ("plate LB07 SEO", "LB07SEO"),
        ("plate BD51 SMR", "BD51SMR"),
        ("old car P123 ABC", "P123ABC"),
        ("old car R1 XYZ", "R1XYZ"),
        ("old car M123NOP", "M123NOP"),
        ("classic ABC 123D", "ABC123D"),
        ("classic ABC123D", "ABC123D"),
        ("NI plate AJZ 7890", "AJZ7890"),
        ("NI plate KFZ 4521", "KFZ4521"),
        # odd spacing, case and wide forms (issue 16)
        ("reg ab12  cde seen", "AB12CDE"),
        ("reg Ab12\tcDe seen", "AB12CDE"),
        ("reg AB12\u00a0CDE", "AB12CDE"),
        ("reg AB12\nCDE", "AB12CDE"),
        ("the car was AB  12\u00a0CDE", "AB12CDE"),
        ("old car P123\t\tABC", "P123ABC"),
        ("classic ABC\u2009123D", "ABC123D"),
        ("NI plate AJZ\u00a07890", "AJZ7890"),
        ("reg \uff21\uff22\uff11\uff12\u3000\uff23\uff24\uff25", "AB12CDE"),
        ("reg ab\uff11\uff12 cde", "AB12CDE"),
    ],
)
def test_registrations(text: str, expected: str) -> None:
    assert values(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "LS11 5AB",  # postcode
        "SW1A 1AA",
        "on 12 may",
        "AT 10 AND",
        "MY 12 DOG",
        "the M62 EAST",
        "A34 BUS",
        "M1 AND M6",
        "APT 4B",
        "FLAT 3B",
        "UNIT 12B",
        "BMW X5",
        "Audi A4",
        "VW ID3",
        "B4 THE",
        "Y2K",
        "p123 abc",  # old formats only in capitals
        "abc 123d",
        "AB00 CDE",  # no such age identifier
        "QA12 CDE",  # Q is never used
        "XAB12CDEX",
        "on  12  may",
        "at\t10\tand",
        "the M62\u00a0EAST",
        "M1\tAND\tM6",
        "APT\u00a04B",
        "p123\tabc",
        "ab  12  cde",  # the spaced format in lower case reads as prose
    ],
)
def test_not_registrations(text: str) -> None:
    assert values(text) == []


def test_normalise_is_idempotent() -> None:
    assert normalise_vehicle(normalise_vehicle(" ab12 cde ")) == "AB12CDE"


def test_offsets() -> None:
    text = "Cars AB12 CDE and P123 ABC, then ABC 123D."
    mentions = extract_vehicle(text)
    assert [m.text for m in mentions] == ["AB12 CDE", "P123 ABC", "ABC 123D"]
    for mention in mentions:
        assert text[mention.start : mention.end] == mention.text


def test_offsets_point_into_the_text_as_written() -> None:
    text = "Cars \uff21\uff22\uff11\uff12\u3000\uff23\uff24\uff25 and ab12\t cde."
    mentions = extract_vehicle(text)
    assert [m.value for m in mentions] == ["AB12CDE", "AB12CDE"]
    assert [m.text for m in mentions] == [
        "\uff21\uff22\uff11\uff12\u3000\uff23\uff24\uff25",
        "ab12\t cde",
    ]
    for mention in mentions:
        assert text[mention.start : mention.end] == mention.text
