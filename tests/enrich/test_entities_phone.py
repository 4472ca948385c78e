"""Phone extraction: the formats people write, and the numbers that are not phones."""

from __future__ import annotations

import pytest

from pipeline.enrich.exact import extract_phone, normalise_phone


def values(text: str) -> list[str]:
    return [m.value for m in extract_phone(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call 07700 900123 now", "+447700900123"),
        ("call 07700900123.", "+447700900123"),
        ("07700-900-123", "+447700900123"),
        ("07700.900.123", "+447700900123"),
        ("0 7 7 0 0 9 0 0 1 2 3", "+447700900123"),
        ("+44 7700 900123", "+447700900123"),
        ("+447700900123", "+447700900123"),
        ("+44 (0)7700 900123", "+447700900123"),
        ("+44 (0) 20 7946 0123", "+442079460123"),
        ("0044 7700 900123", "+447700900123"),
        ("(0161) 496 0123", "+441614960123"),
        ("0161-496-0123", "+441614960123"),
        ("020 7946 0123", "+442079460123"),
        ("0207 946 0123", "+442079460123"),
        ("029 2018 0345", "+442920180345"),
        ("0800 123 4567", "+448001234567"),
        ("01632 960001", "+441632960001"),
        ("tel:07700900123", "+447700900123"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+1 202 555 0143", "+12025550143"),
        ("phone number 07700 900123", "+447700900123"),
        # odd spacing, other separators, wide digits (issue 16)
        ("ring 0161  496  0229 now", "+441614960229"),
        ("0161.496.0229", "+441614960229"),
        ("0161/496/0229", "+441614960229"),
        ("0161/496 0229", "+441614960229"),
        ("0161 - 496 - 0229", "+441614960229"),
        ("0161\t496\t0229", "+441614960229"),
        ("0161\u00a0496\u00a00229", "+441614960229"),
        ("07700\u2009900\u202f123", "+447700900123"),
        ("call\n0161\n496 0229\nafter six", "+441614960229"),
        ("0161\u2013496\u20130229", "+441614960229"),
        ("07700\u200b900123", "+447700900123"),
        ("\uff10\uff17\uff17\uff10\uff10 \uff19\uff10\uff10\uff11\uff12\uff13", "+447700900123"),
        ("0\uff17700 900\uff1123", "+447700900123"),
        ("+44\t(0)\u00a020  7946 0123", "+442079460123"),
        ("(01614960229)", "+441614960229"),
        ("0  7  7  0  0  9  0  0  1  2  3", "+447700900123"),
    ],
)
def test_formats_people_write(text: str, expected: str) -> None:
    assert values(text) == [expected]


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("ring \uff10\uff11\uff16\uff11 496 0229.", "\uff10\uff11\uff16\uff11 496 0229"),
        ("ring 0161\u00a0\u00a0496\t0229\n", "0161\u00a0\u00a0496\t0229"),
        ("(01614960229)", "01614960229"),
    ],
)
def test_offsets_point_into_the_text_as_written(text: str, written: str) -> None:
    [mention] = extract_phone(text)
    assert mention.text == written == text[mention.start : mention.end]


@pytest.mark.parametrize(
    "text",
    [
        "0161 496 0229 / 07700 900123",
        "0161 496 0229 - 07700 900123",
        "0161 496 0229 (07700 900123)",
        "0161 496 0229\n07700 900123",
        "0161 496 0229\t\t07700 900123",
    ],
)
def test_two_numbers_with_something_between_are_both_found(text: str) -> None:
    assert values(text) == ["+441614960229", "+447700900123"]


@pytest.mark.parametrize(
    "text",
    [
        "on 12/03/2024 at 10:30",
        "on 01.02.2024",
        "2024-01-02",
        "07/03/2024",
        "paid £1,250.00",
        "£0.99 and $15",
        "crime ref 0123456789",
        "crime reference number: 01632 960001",
        "order no. 01234 567890",
        "Order #0161 496 0123",
        "tracking number 0123 4567 8901 2345",
        "account 07700900123",
        "IP 192.168.0.1 and 10.0.0.254",
        "version 3.11.7, v2.10.3",
        "IMEI 356938035643809",
        "card 4929 1234 5678 9012",
        "01234567890123456",
        "07700900123456",
        "0412345678",
        "0123456789",
        "07700 900 8 something",
        "01638 496 0101",
        "ref07700900123",
        "999",
        # the same written with odd spacing, separators and wide digits
        "on 12/03/2024\tat 10:30",
        "on 12 / 03 / 2024",
        "on 01.02.2024\u00a0at 09.15",
        "2024\u201301\u201302",
        "paid \u00a3\uff11,\uff12\uff15\uff10.00",
        "crime ref\u00a00123456789",
        "crime\treference\nnumber:  01632  960001",
        "order no.\t01234  567890",
        "account\u300007700900123",
        "IP 192.168.0.1\u00a0and 10.0.0.254",
        "version 3.11.7,\tv2.10.3",
        "card 4929  1234  5678  9012",
        "0 1 / 0 2 / 2 0 2 4",
        "07/03/2024 12/03/2024",
        "1/2 or 3/4 of 0161",
    ],
)
def test_things_that_are_not_phones(text: str) -> None:
    assert values(text) == []


def test_two_numbers_in_a_row_are_split() -> None:
    assert values("07700 900123 07700 900456") == ["+447700900123", "+447700900456"]


def test_bracket_wrapping_the_number_is_not_part_of_it() -> None:
    text = "(07700 900123)"
    [mention] = extract_phone(text)
    assert mention.text == "07700 900123"
    assert text[mention.start : mention.end] == mention.text


def test_offsets_point_at_the_written_number() -> None:
    text = "Caller on 0161 496 0123, also +44 7700 900123."
    for mention in extract_phone(text):
        assert text[mention.start : mention.end] == mention.text
    assert [m.text for m in extract_phone(text)] == ["0161 496 0123", "+44 7700 900123"]


def test_ofcom_drama_ranges_are_accepted_though_not_all_valid() -> None:
    assert normalise_phone("07700 900999") == "+447700900999"
    assert normalise_phone("0115 496 0345") == "+441154960345"
    assert normalise_phone("01632 960001") == "+441632960001"


@pytest.mark.parametrize(
    "text",
    [
        "0.0449361857949 0.060853107696",  # decimals
        "0.04493618579",
        "0 37 99 46 11 53 53 72",  # a table of numbers
        "0 1 1 1 0 0 0 0 1 1 0",  # a row of bits, possible but not valid
        "1.0.15 (2021-06-25)",  # a version and a date
        "07700 901123",  # next to the drama range: possible, not valid
    ],
)
def test_possible_but_not_valid_is_not_enough(text: str) -> None:
    assert values(text) == []


def test_foreign_numbers_must_be_valid() -> None:
    assert normalise_phone("+33 1") is None
    assert normalise_phone("+999 1234 5678") is None
