"""Watchlists: entries on selectors and names, matched in memory against each report's mentions."""

from __future__ import annotations

from pipeline.enrich.watch.entries import (
    Priority,
    SavedSearch,
    Target,
    WatchEntry,
    name_key,
    target_key,
)
from pipeline.enrich.watch.matcher import Match, Watchlist, alert_id, mention_key

__all__ = [
    "Match",
    "Priority",
    "SavedSearch",
    "Target",
    "WatchEntry",
    "Watchlist",
    "alert_id",
    "mention_key",
    "name_key",
    "target_key",
]
