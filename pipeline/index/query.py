"""The query-text clause and its highlight, shared by `/api/search` and saved-search matching.

An analyst's search and a saved search of the same words must find the same reports, so
both build the clause here: the same fields, the same default operator, the same markers.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HIT_TAGS", "QUERY_FIELDS", "text_clause", "text_highlight"]

# Highlight markers: private-use characters, so the web page and CLI can split a fragment
# into plain-text segments without ever treating report text as HTML.
HIT_TAGS = ("\ue000", "\ue001")

# `restricted` is mapped `enabled: false`, so it is never searchable, whatever the role.
QUERY_FIELDS = ("text", "source_id", "entities.*")


def text_clause(q: str) -> dict[str, Any]:
    """The `simple_query_string` clause for query text `q` (all words must match).

    simple_query_string never raises on syntax: a stray quote or bracket is read literally.
    """
    return {
        "simple_query_string": {
            "query": q,
            "fields": list(QUERY_FIELDS),
            "default_operator": "and",
            "lenient": True,
        }
    }


def text_highlight(*, fragments: int = 3, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """Highlight `text` only (never a restricted field) with the HIT_TAGS markers.

    A report whose match lies outside `text` (an entity value, the source id) still gets its
    opening 160 characters. `query` highlights what that query matched instead of the
    request's own query (a `top_hits` under a `filters` bucket needs its bucket's clause).
    """
    body: dict[str, Any] = {
        "pre_tags": [HIT_TAGS[0]],
        "post_tags": [HIT_TAGS[1]],
        "require_field_match": True,
        "fields": {
            "text": {"fragment_size": 160, "number_of_fragments": fragments, "no_match_size": 160}
        },
    }
    if query is not None:
        body["highlight_query"] = query
    return body
