"""Saved searches run once per batch: one request asks which of the batch's reports each matches.

A saved search is a query, not a key, so it cannot be looked up in memory as selectors and
names are. Each call refreshes the index (a search sees only refreshed documents) and asks
Elasticsearch one question per chunk of at most `MAX_CHUNK` report ids: of these, which does
each entry's query match, and where? The query is the clause `/api/search` builds
(`pipeline.index.query`), so a saved search alerts on exactly the reports the same search
lists. A full cluster could percolate the documents against stored queries instead and skip
the refresh (README, "Saved searches, and why matching is in memory"); the local node has no
percolator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pipeline.enrich.watch.entries import SavedSearch, WatchEntry
from pipeline.enrich.watch.matcher import Match
from pipeline.errors import SearchUnavailable, Unavailability, map_es_errors
from pipeline.index.query import text_clause, text_highlight

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

__all__ = ["MAX_CHUNK", "BatchSearches", "search_filter", "searches_body"]

# top_hits returns at most index.max_inner_result_window (100 by default) hits per bucket,
# so a chunk of at most that many ids lets every entry list every report it matched.
MAX_CHUNK = 100
_HITS = "reports"
# Only what is read comes back: no scores, totals or indices, and no empty aggregations.
_FILTER_PATH = ",".join(
    [
        "timed_out",
        "_shards.failed",
        f"aggregations.*.{_HITS}.hits.hits._id",
        f"aggregations.*.{_HITS}.hits.hits.highlight",
    ]
)


def search_filter(search: SavedSearch) -> dict[str, Any]:
    """The saved search as a query: `/api/search`'s text clause, narrowed by source and region."""
    filters: list[dict[str, Any]] = []
    if search.sources:
        filters.append({"terms": {"source": [source.value for source in search.sources]}})
    if search.regions:
        filters.append({"terms": {"region": list(search.regions)}})
    return {"bool": {"must": [text_clause(search.q)], "filter": filters}}


def _saved(entry: WatchEntry) -> SavedSearch:
    if entry.search is None:
        raise ValueError(f"entry {entry.id} watches a target, not a saved search")
    return entry.search


def searches_body(entries: Sequence[WatchEntry], report_ids: Sequence[str]) -> dict[str, Any]:
    """The one request for a chunk: per entry, the reports among `report_ids` it matches,
    each with the `text` fragment its words were found in.

    One `filter` aggregation per entry rather than one bucket each of a `filters`
    aggregation: a `filters` aggregation shares its sub-aggregations between its buckets, so
    their highlight could only mark every entry's words at once, never just the bucket's.
    Aggregations are named by the entry's position, so no entry id is read as syntax.
    """
    if len(report_ids) > MAX_CHUNK:
        raise ValueError(f"{len(report_ids)} report ids in one request; at most {MAX_CHUNK}")
    aggs: dict[str, Any] = {}
    for position, entry in enumerate(entries):
        search = _saved(entry)
        aggs[str(position)] = {
            "filter": search_filter(search),
            "aggs": {
                _HITS: {
                    "top_hits": {
                        "size": max(len(report_ids), 1),
                        "_source": False,
                        # the request's own query is only `ids`: highlight the entry's words
                        "highlight": text_highlight(fragments=1, query=text_clause(search.q)),
                    }
                }
            },
        }
    return {"query": {"ids": {"values": list(report_ids)}}, "size": 0, "aggs": aggs}


def _hits(aggregations: dict[str, Any], position: int) -> list[dict[str, Any]]:
    """The hits of the entry at `position` (filter_path drops an aggregation that found none)."""
    found = aggregations.get(str(position), {}).get(_HITS, {}).get("hits", {})
    return list(found.get("hits", []))


def _fragment(hit: dict[str, Any]) -> str | None:
    fragments = hit.get("highlight", {}).get("text") or []
    return str(fragments[0]) if fragments else None


class BatchSearches:
    """Runs the live saved searches over the reports a batch has just indexed into `index`."""

    def __init__(self, es: Elasticsearch, index: str, *, refresh: bool = True) -> None:
        self._es = es
        self.index = index
        # Off only for a caller that has made the documents searchable itself (the bench).
        self.refresh = refresh

    def matches(
        self, entries: Sequence[WatchEntry], report_ids: Sequence[str]
    ) -> dict[str, list[Match]]:
        """Report id -> a match for each saved-search entry that finds it, entries in id order.

        Reports come in the order of `report_ids`; a report nothing matched is left out. Raises
        `SearchUnavailable` (the batch is retried) when Elasticsearch cannot answer in full.
        """
        searches = sorted((e for e in entries if e.search is not None), key=lambda e: e.id)
        ids = list(dict.fromkeys(report_ids))
        if not searches or not ids:
            return {}
        if self.refresh:
            self._ask("refresh for saved searches", self._es.indices.refresh, index=self.index)
        found: dict[str, list[Match]] = {}
        for start in range(0, len(ids), MAX_CHUNK):
            answer = self._ask(
                "run saved searches",
                self._es.search,
                index=self.index,
                body=searches_body(searches, ids[start : start + MAX_CHUNK]),
                filter_path=_FILTER_PATH,
                # every request is new (other ids, a fresh refresh): caching it would only evict
                request_cache=False,
            )
            aggregations = answer.get("aggregations", {})
            for position, entry in enumerate(searches):
                for hit in _hits(aggregations, position):
                    found.setdefault(hit["_id"], []).append(Match(entry, None, _fragment(hit)))
        return {report_id: found[report_id] for report_id in ids if report_id in found}

    def _ask(self, action: str, request: Callable[..., Any], **arguments: Any) -> dict[str, Any]:
        import elasticsearch

        with map_es_errors(action):
            try:
                answer = dict(request(**arguments).body)
            except elasticsearch.NotFoundError as exc:
                raise SearchUnavailable(
                    f"{action}: no index {self.index}", reason=Unavailability.INDEX_UNAVAILABLE
                ) from exc
        if answer.get("timed_out") or answer.get("_shards", {}).get("failed"):
            # a partial answer would lose alerts without a word: retry the batch instead
            raise SearchUnavailable(f"{action}: {self.index} answered only in part")
        return answer
