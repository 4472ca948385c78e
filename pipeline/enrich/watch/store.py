"""Watchlist entries in Elasticsearch (`<alias>-watch`), and every worker's copy kept in step.

An entry is never deleted from the index, only marked `deleted` with a new `updated_at`, so a
worker that reads what changed since its last look (`WatchSync.refresh`) sees removals too.
Reads overlap the previous look by `OVERLAP_S`: a write made just before a look may become
searchable only after it (the refresh interval), and applying an entry twice is harmless.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pipeline.enrich.watch.entries import WatchEntry
from pipeline.enrich.watch.indices import ensure_small_index
from pipeline.enrich.watch.matcher import Watchlist
from pipeline.errors import map_es_errors

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

__all__ = ["WatchSync", "delete_entry", "ensure_watch_index", "put_entry", "watch_index"]

log = logging.getLogger(__name__)

OVERLAP_S = 30.0
_PAGE = 1_000

MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "keyword"},
        "owner": {"type": "keyword"},
        "justification": {"type": "text", "index": False},
        "priority": {"type": "keyword"},
        "created": {"type": "date"},
        "expiry": {"type": "date"},
        "target": {
            "properties": {
                "type": {"type": "keyword"},
                "value": {"type": "keyword"},
                "key": {"type": "keyword"},
            }
        },
        "search": {
            "properties": {
                "q": {"type": "text", "index": False},
                "sources": {"type": "keyword"},
                "regions": {"type": "keyword"},
            }
        },
        "restricted": {"type": "boolean"},
        "updated_at": {"type": "date"},
        "deleted": {"type": "boolean"},
    },
}


def watch_index(alias: str) -> str:
    """The watchlist index of the deployment whose report alias is `alias`."""
    return f"{alias}-watch"


def ensure_watch_index(es: Elasticsearch, alias: str) -> str:
    """Create the watchlist index unless it exists (idempotent, safe to race); its name."""
    return ensure_small_index(es, watch_index(alias), MAPPING)


def _now() -> datetime:
    return datetime.now(UTC)


def put_entry(es: Elasticsearch, alias: str, entry: WatchEntry, *, refresh: bool = False) -> None:
    """Store `entry` (a new one, or a change to the entry with its id)."""
    document = {**entry.model_dump(mode="json"), "updated_at": _now().isoformat(), "deleted": False}
    with map_es_errors("store watchlist entry"):
        es.index(index=watch_index(alias), id=entry.id, document=document, refresh=refresh)


def delete_entry(es: Elasticsearch, alias: str, entry_id: str, *, refresh: bool = False) -> bool:
    """Mark the entry deleted (it stops matching at every worker's next look); False if none."""
    import elasticsearch

    with map_es_errors("delete watchlist entry"):
        try:
            es.update(
                index=watch_index(alias),
                id=entry_id,
                doc={"deleted": True, "updated_at": _now().isoformat()},
                refresh=refresh,
            )
        except elasticsearch.NotFoundError:
            return False
    return True


class WatchSync:
    """One worker's copy of the live entries, brought up to date at most every `interval_s`."""

    def __init__(
        self,
        es: Elasticsearch,
        alias: str,
        *,
        interval_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._es = es
        self._index = watch_index(alias)
        self.interval_s = interval_s
        self._clock = clock
        self.watchlist = Watchlist()
        # id -> the `updated_at` last applied: an entry read again in the overlap is skipped
        self._applied: dict[str, str] = {}
        self._since: datetime | None = None
        self._looked: float | None = None

    def current(self, now: datetime) -> Watchlist:
        """The entries as of at most `interval_s` ago, expired ones dropped."""
        if self._looked is None or self._clock() - self._looked >= self.interval_s:
            self.refresh(now)
        return self.watchlist

    def refresh(self, now: datetime) -> None:
        """Apply every entry stored or deleted since the last look (all of them the first time)."""
        started = now
        changed = 0
        for source in self._changed_since(self._since):
            entry_id, stamp = str(source.get("id")), str(source.get("updated_at"))
            if self._applied.get(entry_id) == stamp:
                continue  # read again only because the looks overlap
            self._applied[entry_id] = stamp
            changed += 1
            if source.get("deleted"):
                self.watchlist.remove(entry_id)
                continue
            try:
                entry = WatchEntry.model_validate(
                    {k: v for k, v in source.items() if k not in ("updated_at", "deleted")}
                )
            except ValueError:
                # stored by older code or by hand; it must not stop the others from matching
                log.warning("watchlist entry %r is no longer valid; skipping it", entry_id)
                self.watchlist.remove(entry_id)
                continue
            self.watchlist.add(entry)
        self.watchlist.prune(now)
        self._since = started - timedelta(seconds=OVERLAP_S)
        self._looked = self._clock()
        if changed:
            log.info("watchlist: %d entries changed, %d live", changed, len(self.watchlist))

    def _changed_since(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        import elasticsearch

        query: dict[str, Any] = (
            {"range": {"updated_at": {"gte": since.isoformat()}}}
            if since is not None
            else {"bool": {"must_not": {"term": {"deleted": True}}}}
        )
        after: list[Any] | None = None
        while True:
            with map_es_errors("read watchlist"):
                try:
                    page = self._es.search(
                        index=self._index,
                        query=query,
                        sort=[{"updated_at": "asc"}, {"id": "asc"}],
                        size=_PAGE,
                        search_after=after,
                    )
                except elasticsearch.NotFoundError:
                    return  # no entries stored yet
            hits = page["hits"]["hits"]
            for hit in hits:
                yield hit["_source"]
            if len(hits) < _PAGE:
                return
            after = hits[-1]["sort"]
