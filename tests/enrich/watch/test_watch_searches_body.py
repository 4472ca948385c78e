"""The saved-search request as plain data: the API's own clause, one aggregation per entry."""

from __future__ import annotations

import pytest

from pipeline.api.queries import SearchParams, search_body
from pipeline.enrich.watch import SavedSearch, WatchEntry
from pipeline.enrich.watch.searches import MAX_CHUNK, search_filter, searches_body
from pipeline.index.query import HIT_TAGS, QUERY_FIELDS
from pipeline.ingest.sources import Source
from tests.enrich.watch.factory import NOW, entry


def saved(entry_id: str, q: str, **narrowing: object) -> WatchEntry:
    return WatchEntry.model_validate(
        {
            "id": entry_id,
            "owner": "analyst1",
            "justification": "operation TEST",
            "created": NOW,
            "search": {"q": q, **narrowing},
        }
    )


def test_a_saved_search_is_the_query_the_api_builds_for_the_same_search() -> None:
    search = SavedSearch(
        q='"white van" -chapel', sources=(Source.HOTLINE_CALL,), regions=("Wales",)
    )
    params = SearchParams(q=search.q, sources=("hotline_call",), regions=("Wales",))
    assert search_filter(search) == search_body(params, restricted=False)["query"]
    clause = search_filter(search)["bool"]["must"][0]["bool"]["must"][0]["simple_query_string"]
    assert clause["fields"] == list(QUERY_FIELDS) and clause["default_operator"] == "and"


def test_one_request_asks_every_entry_about_the_chunk_with_its_own_highlight() -> None:
    entries = [saved("a", "van"), saved("b", "drone", regions=("London",))]
    body = searches_body(entries, ["r1", "r2"])
    assert body["query"] == {"ids": {"values": ["r1", "r2"]}} and body["size"] == 0
    assert list(body["aggs"]) == ["0", "1"]  # by position: an entry id is never syntax
    for position, watched in enumerate(entries):
        agg = body["aggs"][str(position)]
        assert watched.search is not None
        assert agg["filter"] == search_filter(watched.search)
        hits = agg["aggs"]["reports"]["top_hits"]
        assert hits["size"] == 2 and hits["_source"] is False
        assert hits["highlight"]["pre_tags"] == [HIT_TAGS[0]]
        assert list(hits["highlight"]["fields"]) == ["text"]
        assert hits["highlight"]["highlight_query"] == agg["filter"]["bool"]["must"][0]


def test_a_chunk_is_at_most_what_top_hits_can_return() -> None:
    searches_body([saved("a", "van")], [f"r{n}" for n in range(MAX_CHUNK)])
    with pytest.raises(ValueError, match="at most 100"):
        searches_body([saved("a", "van")], [f"r{n}" for n in range(MAX_CHUNK + 1)])


def test_an_entry_on_a_target_is_not_a_saved_search() -> None:
    with pytest.raises(ValueError, match="watches a target"):
        searches_body([entry("phone:07700 900123", id="p")], ["r1"])
