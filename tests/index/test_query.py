"""The query-text clause as plain data: words widened to their stems, exact words scored apart."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.api.queries import SearchParams, search_body
from pipeline.index.query import (
    EXACT_FIELDS,
    QUERY_FIELDS,
    RELAXED_MATCH,
    STEMS_FIELD,
    can_relax,
    stemmed_query,
    text_clause,
    word_forms_highlight,
)


@pytest.mark.parametrize(
    ("typed", "searched"),
    [
        ("station bag", "station bag"),
        ("stations bags", "(stations | station) (bags | bag)"),
        ("Stations, bags.", "(Stations, | station) (bags. | bag)"),
        ("driver's van", "(driver's | driver) van"),
        ('"white vans" -chapels', '("white vans" | "white van") -(chapels | chapel)'),
        ('"bags left"~2 | drones', '("bags left"~2 | "bag left"~2) | (drones | drone)'),
        ("(filming | photographing)", "((filming | film) | (photographing | photograph))"),
        # selectors, prefixes, fuzzy and escaped terms are searched as typed
        ("AB12 CDE @BadActor 07700", "AB12 CDE @BadActor 07700"),
        ("stat* cheetham~1 pr-1 a\\+b", "stat* cheetham~1 pr-1 a\\+b"),
        # a query it cannot read (an unclosed quote or bracket) is left alone
        ('"bags left', '"bags left'),
        ("bags) (", "bags) ("),
        ("", ""),
    ],
)
def test_plain_words_and_phrases_are_widened_to_their_stems(typed: str, searched: str) -> None:
    assert stemmed_query(typed) == searched


def test_the_clause_needs_every_word_in_some_form_and_scores_exact_words_apart() -> None:
    clause = text_clause("stations bags")["bool"]
    [stemmed] = clause["must"]
    [exact] = clause["should"]
    assert stemmed["simple_query_string"] == {
        "query": "(stations | station) (bags | bag)",
        "fields": [*EXACT_FIELDS, STEMS_FIELD],
        "default_operator": "and",
        "lenient": True,
    }
    # the words as typed, never against the stems: only an exact match adds this score
    assert exact["simple_query_string"]["query"] == "stations bags"
    assert exact["simple_query_string"]["fields"] == list(EXACT_FIELDS)
    assert STEMS_FIELD not in exact["simple_query_string"]["fields"]
    assert list(QUERY_FIELDS) == stemmed["simple_query_string"]["fields"]


def test_the_relaxed_clause_needs_most_of_the_words() -> None:
    for part in text_clause("canal stations drones", relaxed=True)["bool"].values():
        simple = part[0]["simple_query_string"]
        assert simple["default_operator"] == "or"
        assert simple["minimum_should_match"] == RELAXED_MATCH
    assert "minimum_should_match" not in str(text_clause("canal stations"))


@pytest.mark.parametrize(
    ("q", "relaxable"),
    [
        ("station bag", True),
        ('"white van" depot', True),
        ("station", False),
        ("07700 900456", False),
        ("van AB12", False),
        ("station -bag", False),
        ("station | bag", False),
        ("(station bag)", False),
        ('"unclosed phrase', False),
        ("   ", False),
    ],
)
def test_only_plain_words_are_relaxed(q: str, relaxable: bool) -> None:
    assert can_relax(q) is relaxable


def test_search_body_uses_the_clause_marks_word_forms_and_never_returns_the_stems() -> None:
    body = search_body(SearchParams(q="station bags"), restricted=False)
    assert body["query"]["bool"]["must"] == [text_clause("station bags")]
    assert STEMS_FIELD in body["_source"]["excludes"]
    assert list(body["highlight"]["fields"]) == ["text"]
    marks = body["highlight"]["highlight_query"]["bool"]["should"]
    assert marks[0] == text_clause("station bags")
    assert marks[1]["simple_query_string"] == {"query": "bag* | station*", "fields": ["text"]}
    relaxed = search_body(SearchParams(q="station bags"), restricted=False, relaxed=True)
    assert relaxed["query"]["bool"]["must"] == [text_clause("station bags", relaxed=True)]
    assert "highlight_query" not in search_body(SearchParams(), restricted=False)["highlight"]


def test_word_forms_are_marked_by_what_the_word_and_its_stem_share() -> None:
    should = word_forms_highlight("happily -chapels ab12 on")["bool"]["should"]
    assert should[1]["simple_query_string"]["query"] == "happil*"
    assert len(word_forms_highlight("ab12 -chapels")["bool"]["should"]) == 1


@given(st.text(alphabet=st.sampled_from(list("ab s\"-|+()*~\\'.2")), max_size=30) | st.text())
def test_any_query_text_is_widened_without_error(q: str) -> None:
    assert isinstance(stemmed_query(q), str)
    can_relax(q)
    word_forms_highlight(q)
