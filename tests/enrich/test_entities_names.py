"""Cleaning NER spans: trimmed offsets, normal case, relabelled places, noise dropped."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.enrich.mentions import EntityType
from pipeline.enrich.names import clean_entity
from pipeline.enrich.ner import place_mentions

PER, ORG, LOC = EntityType.PERSON, EntityType.ORG, EntityType.LOCATION


def clean(span: str, kind: EntityType) -> tuple[str, str, EntityType] | None:
    text = f"x {span} y"
    mention = clean_entity(text, 2, 2 + len(span), kind)
    if mention is None:
        return None
    assert text[mention.start : mention.end] == mention.text
    return mention.text, mention.value, mention.type


@pytest.mark.parametrize(
    ("span", "kind", "expected"),
    [
        ("John Smith", PER, ("John Smith", "John Smith", PER)),
        ('"John  Smith"', PER, ("John  Smith", "John Smith", PER)),
        ("John's", PER, ("John", "John", PER)),
        ("Jones'", PER, ("Jones", "Jones", PER)),
        ("mohammed bin salman", PER, ("mohammed bin salman", "Mohammed bin Salman", PER)),
        ("DEREK HOLMES", PER, ("DEREK HOLMES", "Derek Holmes", PER)),
        ("Caller Rhys Davies", PER, ("Rhys Davies", "Rhys Davies", PER)),
        ("Mrs Helen Ward", PER, ("Helen Ward", "Helen Ward", PER)),
        ("the Arndale Centre's", ORG, ("Arndale Centre", "Arndale Centre", LOC)),
        (
            "THE ENGLISH DEFENCE LEAGUE",
            ORG,
            ("ENGLISH DEFENCE LEAGUE", "English Defence League", ORG),
        ),
        ("BBC", ORG, ("BBC", "BBC", ORG)),
        ("easyJet", ORG, ("easyJet", "easyJet", ORG)),
        ("LONDON", LOC, ("LONDON", "London", LOC)),
        ("stoke-on-trent", LOC, ("stoke-on-trent", "Stoke-on-Trent", LOC)),
        ("king's cross", LOC, ("king's cross", "King's Cross", LOC)),
        ("leeds", LOC, ("leeds", "Leeds", LOC)),
        ("Leeds", PER, ("Leeds", "Leeds", LOC)),
        ("Leicester Square", PER, ("Leicester Square", "Leicester Square", LOC)),
        ("Reading to", ORG, ("Reading", "Reading", LOC)),
    ],
)
def test_clean(span: str, kind: EntityType, expected: tuple[str, str, EntityType]) -> None:
    assert clean(span, kind) == expected


@pytest.mark.parametrize(
    ("span", "kind"),
    [
        ("tesco", ORG),  # single lower-case word
        ("07700", ORG),
        ("1234", LOC),
        ("PO", ORG),
        ("GP", ORG),
        ("Caller", PER),
        ("Driver", PER),
        ("Landlord", PER),
        ("@someone", PER),
        ("www.example.com", ORG),
        ("...", PER),
        ("", PER),
        ("x" * 90, ORG),
    ],
)
def test_noise_is_dropped(span: str, kind: EntityType) -> None:
    assert clean(span, kind) is None


pieces = st.sampled_from([*"abcLEEDS leeds'\u2019-.,\u0130\u00df@0", "Leeds", " the ", "'s"])
texts = st.lists(pieces, max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts, st.integers(0, 80), st.integers(0, 80), st.sampled_from(list(EntityType)[:3]))
def test_clean_entity_keeps_offsets_true(text: str, a: int, b: int, kind: EntityType) -> None:
    start, end = sorted((min(a, len(text)), min(b, len(text))))
    mention = clean_entity(text, start, end, kind)
    if mention is not None:
        assert start <= mention.start < mention.end <= end
        assert text[mention.start : mention.end] == mention.text
        assert clean_entity(text, mention.start, mention.end, mention.type) == mention


@settings(max_examples=300, deadline=None)
@given(texts)
def test_place_mentions_keep_offsets_true(text: str) -> None:
    for mention in place_mentions(text):
        assert text[mention.start : mention.end] == mention.text
        assert mention.type is EntityType.LOCATION
