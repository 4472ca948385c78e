"""Watch matching in memory: live entries by normalised key, one dict lookup per mention.

Matching costs the same with ten entries or a hundred thousand: a report's mentions are
looked up, never the entries scanned. Entries only ever sit in the index under a key their
validation produced, so no entry can change what another one matches.

A report's public mentions (those analysts read) match every entry; its restricted values (the
reporter's, caller's or subject's own, repeated in the narrative or given in their fields)
match only `restricted` entries, so an analyst's entry never alerts on them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.enrich.mentions import Enrichment, EntityType, Mention
from pipeline.enrich.restricted import RestrictedMention, RestrictedValues, protect
from pipeline.enrich.watch.entries import NAME_TYPES, SELECTOR_TYPES, WatchEntry, name_key

__all__ = ["Match", "Watchlist", "alert_id", "field_values", "mention_key"]

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
    search the highlighted fragment (HIT_TAGS markers, as `/api/search` returns them).

    A public mention's offsets point into the text analysts read (the masked `text`). A
    restricted entry's match on a restricted value names its `field` (`caller.phone`): offsets
    then point into the narrative as written (`restricted.text`), or, `in_narrative` false,
    the value is the field's own and has no place in the text.
    """

    entry: WatchEntry
    mention: Mention | None
    highlight: str | None = None
    field: str | None = None
    in_narrative: bool = True


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

    def match_report(
        self, text: str, mentions: Iterable[Mention], restricted: Mapping[str, Any], now: datetime
    ) -> list[Match]:
        """Every match in one report (its narrative `text`, the `mentions` enrichment found in
        it, its `restricted` details): the public mentions, as masked for analysts, against
        every entry; then the restricted values, in the narrative and in their own fields,
        against restricted entries only."""
        protected = protect(text, mentions, restricted)
        return [
            *self.match(protected.mentions, now),
            *self.match_restricted(protected.restricted, now),
            *self.match_restricted(field_values(restricted), now, in_narrative=False),
        ]

    def match(self, found: Enrichment | Iterable[Mention], now: datetime) -> list[Match]:
        """Every (live entry, mention) pair for one report's public mentions, in mention order.

        Entries on one key come in id order, so every worker lists them alike.
        """
        mentions = found.mentions if isinstance(found, Enrichment) else found
        return [Match(entry, mention) for mention in mentions for entry in self._live(mention, now)]

    def match_restricted(
        self, restricted: Iterable[RestrictedMention], now: datetime, *, in_narrative: bool = True
    ) -> list[Match]:
        """Every (live restricted entry, value) pair for one report's restricted values: those
        repeated in its narrative, or (`in_narrative` false) its fields' own (`field_values`)."""
        return [
            Match(entry, found.mention, field=found.field, in_narrative=in_narrative)
            for found in restricted
            for entry in self._live(found.mention, now)
            if entry.restricted
        ]

    def _live(self, mention: Mention, now: datetime) -> list[WatchEntry]:
        key = mention_key(mention)
        bucket = self._by_key.get(_slot(*key)) if key is not None else None
        if not bucket:
            return []
        return [entry for _, entry in sorted(bucket.items()) if entry.live(now)]


def field_values(restricted: Mapping[str, Any]) -> list[RestrictedMention]:
    """A report's restricted fields (`Report.restricted`: reporter's, caller's, subject's name,
    phone, email) as mentions, normalised as `protect` reads them: a phone in E.164, an email
    in lower case, a name with titles trimmed. The offsets span the value alone."""
    values = RestrictedValues.of(restricted)
    found = [
        *((EntityType.PERSON, name, field) for field, name in values.names.values()),
        *((EntityType.PHONE, phone, field) for phone, field in values.phones.items()),
        *((EntityType.EMAIL, email, field) for email, field in values.emails.items()),
    ]
    return [
        RestrictedMention(Mention(kind, value, value, 0, len(value)), field)
        for kind, value, field in found
    ]
