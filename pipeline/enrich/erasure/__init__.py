"""Erasure: the ledger every worker keeps of erased reports, and the purge of their derived data."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.enrich.erasure.ledger import ErasureLedger, append_erasures
    from pipeline.enrich.erasure.purge import Purger, PurgeResult

__all__ = ["ErasureLedger", "PurgeResult", "Purger", "append_erasures"]

# Loaded on first use: `pipeline --help` stays free of kafka-python and elasticsearch.
_HOMES = {
    "ErasureLedger": "pipeline.enrich.erasure.ledger",
    "append_erasures": "pipeline.enrich.erasure.ledger",
    "Purger": "pipeline.enrich.erasure.purge",
    "PurgeResult": "pipeline.enrich.erasure.purge",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
