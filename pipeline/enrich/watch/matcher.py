"""Watch matching in memory: live entries by normalised key, one dict lookup per mention.

Matching costs the same with ten entries or a hundred thousand: a report's mentions are
looked up, never the entries scanned. Entries only ever sit in the index under a key their
validation produced, so no entry can change what another one matches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pipeline.enrich.mentions import Enrichment, EntityType, Mention
from pipeline.enrich.watch.entries import NAME_TYPES, SELECTOR_TYPES, WatchEntry, name_key

__all__ = ["Match", "Watchlist", "alert_id", "mention_key"]

# NER often takes a person for an organisation and back (shouted names above all), so a
# name entry of either type matches a mention of either: both share one slot in the index.
_NAME_SLOT = EntityType.PERSON


def _slot(kind: EntityType, key: str) -> tuple[EntityType, str]:
    return (_NAME_SLOT if kind in NAME_TYPES else kind), key


def mention_key(mention: Mention) -> tuple[EntityType, str] | None:
    """The (type, key) a mention is matched by, as an entry's `key`; None for other types."""
    if mention.type in SELECTOR_TYPES:
        return mention.type, mention.value
    if mention.type in NAME_TYPES:
        return mention.type, name_key(mention.value)
    return None


def alert_id(entry_id: str, cluster_id: str) -> str:
    """The one alert of an entry on a cluster: the same for every report, replay or redelivery.

    Entry ids hold no control characters (WatchEntry's pattern), so the separator is unambiguous.
    """
    return hashlib.sha256(f"{entry_id}\x1f{cluster_id}".encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Match:
    """An entry and what it matched in one report: the mention of its target, or for a saved
    search the highlighted fragment (HIT_TAGS markers, as `/api/search` returns them)."""

    entry: WatchEntry
    mention: Mention | None
    highlight: str | None = None


class Watchlist:
    """The entries a worker holds, indexed by normalised key."""

    def __init__(self, entries: Iterable[WatchEntry] = ()) -> None:
        self._by_id: dict[str, WatchEntry] = {}
        self._by_key: dict[tuple[EntityType, str], dict[str, WatchEntry]] = {}
        self._searches: dict[str, WatchEntry] = {}
        for entry in entries:
            self.add(entry)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._by_id

    def get(self, entry_id: str) -> WatchEntry | None:
        """The entry with this id, or None."""
        return self._by_id.get(entry_id)

    def add(self, entry: WatchEntry) -> None:
        """Add `entry`, or put it in place of the entry with the same id (a changed entry)."""
        self.remove(entry.id)
        self._by_id[entry.id] = entry
        if entry.search is not None:
            self._searches[entry.id] = entry
        else:
            self._by_key.setdefault(_slot(*entry.key), {})[entry.id] = entry

    def remove(self, entry_id: str) -> WatchEntry | None:
        """Drop the entry with this id; the entry, or None when there was none."""
        entry = self._by_id.pop(entry_id, None)
        if entry is not None and entry.search is not None:
            del self._searches[entry_id]
        elif entry is not None:
            slot = _slot(*entry.key)
            bucket = self._by_key[slot]
            del bucket[entry_id]
            if not bucket:
                del self._by_key[slot]
        return entry

    def replace(self, entries: Iterable[WatchEntry]) -> None:
        """Hold exactly `entries` from now on (a reload from the store)."""
        self._by_id.clear()
        self._by_key.clear()
        self._searches.clear()
        for entry in entries:
            self.add(entry)

    def prune(self, now: datetime) -> list[WatchEntry]:
        """Drop the entries expired at `now` and return them (they match nothing already)."""
        expired = [entry for entry in self._by_id.values() if not entry.live(now)]
        for entry in expired:
            self.remove(entry.id)
        return expired

    def searches(self, now: datetime) -> list[WatchEntry]:
        """The live saved-search entries, in id order (run once per batch, not per mention)."""
        return [entry for _, entry in sorted(self._searches.items()) if entry.live(now)]

    def match(self, found: Enrichment | Iterable[Mention], now: datetime) -> list[Match]:
        """Every (live entry, mention) pair for one report's mentions, in mention order.

        Entries on one key come in id order, so every worker lists them alike.
        """
        mentions = found.mentions if isinstance(found, Enrichment) else found
        matches: list[Match] = []
        for mention in mentions:
            key = mention_key(mention)
            bucket = self._by_key.get(_slot(*key)) if key is not None else None
            if bucket:
                matches.extend(
                    Match(entry, mention) for _, entry in sorted(bucket.items()) if entry.live(now)
                )
        return matches
