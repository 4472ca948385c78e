"""All exact extractors together: overlaps resolved, and properties on arbitrary text."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.enrich.exact import (
    canonical_url,
    extract_exact,
    normalise_phone,
    normalise_postcode,
    normalise_vehicle,
)
from pipeline.enrich.mentions import EntityType

SAMPLE = (
    "Caller saw AB12 CDE at M1 1AE. Ring 07700 900123 or mail jo@example.com; "
    "see https://t.me/x?utm_source=a and follow @jo_b."
)


def test_one_of_each() -> None:
    found = {(m.type, m.value) for m in extract_exact(SAMPLE)}
    assert found == {
        (EntityType.VEHICLE, "AB12CDE"),
        (EntityType.POSTCODE, "M1 1AE"),
        (EntityType.PHONE, "+447700900123"),
        (EntityType.EMAIL, "jo@example.com"),
        (EntityType.URL, "https://t.me/x"),
        (EntityType.HANDLE, "@jo_b"),
    }


def test_an_email_host_is_not_also_a_url_nor_a_handle() -> None:
    mentions = extract_exact("write to bob@www.example.com please")
    assert [(m.type, m.value) for m in mentions] == [(EntityType.EMAIL, "bob@www.example.com")]


def test_digits_inside_a_url_are_not_a_phone() -> None:
    mentions = extract_exact("https://example.com/u/07700900123 and 07700 900456")
    assert [m.type for m in mentions] == [EntityType.URL, EntityType.PHONE]
    assert mentions[1].value == "+447700900456"


def test_credentials_url_is_one_url_not_an_email() -> None:
    [mention] = extract_exact("http://user:pw@host.example.com/x")
    assert mention.type is EntityType.URL


def test_handle_in_a_url_is_part_of_the_url() -> None:
    [mention] = extract_exact("https://www.tiktok.com/@someone/video/1")
    assert mention.type is EntityType.URL


def test_results_are_in_text_order_and_disjoint() -> None:
    mentions = extract_exact(SAMPLE * 3)
    for before, after in pairwise(mentions):
        assert before.end <= after.start


# Text built from the pieces extractors care about, so the properties see near-misses.
pieces = st.sampled_from(
    [
        " ", "  ", ".", ",", "(", ")", "@", "/", ":", "-", "+", "#", "?", "&", "=", "£",
        "0", "07700", "900123", "44", "0161", "496", "AB12", "CDE", "ab12cde", "M1", "1AE",
        "SW1A", "1AA", "P123", "ABC", "123D", "www.", "https://", "http://", "example.com",
        "youtu.be/", "t.me/", "jo", "@jo", "utm_source=x", "Leeds", "é", "\n", "\u2019s",
        "\t", "\u00a0", "\u3000", "\u200b", "\u2013", "\uff10", "\uff11\uff12", "\uff21",
    ]
)  # fmt: skip
texts = st.one_of(st.text(max_size=200), st.lists(pieces, max_size=40).map("".join))


@settings(max_examples=300, deadline=None)
@given(texts)
def test_offsets_always_valid_and_never_raises(text: str) -> None:
    for mention in extract_exact(text):
        assert 0 <= mention.start < mention.end <= len(text)
        assert text[mention.start : mention.end] == mention.text


@settings(max_examples=300, deadline=None)
@given(texts)
def test_normal_forms_are_fixed_points(text: str) -> None:
    for mention in extract_exact(text):
        if mention.type is EntityType.PHONE:
            assert normalise_phone(mention.value) == mention.value
        elif mention.type is EntityType.POSTCODE:
            assert normalise_postcode(mention.value) == mention.value
        elif mention.type is EntityType.VEHICLE:
            assert normalise_vehicle(mention.value) == mention.value
        elif mention.type is EntityType.URL:
            assert canonical_url(mention.value) == mention.value
        elif mention.type in (EntityType.EMAIL, EntityType.HANDLE):
            assert mention.value == mention.value.lower()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_extracting_from_a_value_finds_the_value(text: str) -> None:
    # Each extracted value, extracted again on its own, is found whole and unchanged.
    for mention in extract_exact(text):
        if mention.type in (EntityType.EMAIL, EntityType.HANDLE, EntityType.POSTCODE):
            [again] = extract_exact(mention.value)
            assert again.value == mention.value
