"""Valid watch entries for tests, created at a fixed `NOW` (plain functions: hypothesis-safe)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from pipeline.enrich.watch import WatchEntry

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)

_ids = itertools.count()


def entry(target: Any, **fields: Any) -> WatchEntry:
    """`entry("phone:07700 900123", id="e1")`: an entry created at NOW, the rest filled in."""
    fields.setdefault("id", f"entry-{next(_ids)}")
    fields.setdefault("owner", "analyst1")
    fields.setdefault("justification", "linked to operation TEST")
    fields.setdefault("created", NOW)
    return WatchEntry(target=target, **fields)
