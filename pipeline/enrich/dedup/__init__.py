"""Deduplication: exact and near-duplicate clustering of reports, shared by all workers."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.enrich.dedup.deduplicator import Deduplicator
    from pipeline.enrich.dedup.keys import DedupParams, ReportKeys, report_keys
    from pipeline.enrich.dedup.ledger import Ledger

__all__ = ["DedupParams", "Deduplicator", "Ledger", "ReportKeys", "report_keys"]

# Loaded on first use, so `pipeline --help` (which imports this package's CLI) stays free
# of numpy, datasketch and elasticsearch.
_HOMES = {
    "Deduplicator": "pipeline.enrich.dedup.deduplicator",
    "DedupParams": "pipeline.enrich.dedup.keys",
    "ReportKeys": "pipeline.enrich.dedup.keys",
    "report_keys": "pipeline.enrich.dedup.keys",
    "Ledger": "pipeline.enrich.dedup.ledger",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
