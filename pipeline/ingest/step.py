"""The batch path's first step: each raw record validated into a `Report`, or rejected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.errors import RecordError
from pipeline.flow.item import Item
from pipeline.ingest.validate import parse_record


@dataclass(frozen=True)
class Validate:
    """Parse and validate every record (README, "Intake rules")."""

    name: str = "ingest"
    interruptible: bool = True

    def run(self, items: Sequence[Item]) -> None:
        """Set each item's report, or reject it with the first rule it breaks."""
        for item in items:
            try:
                item.report = parse_record(item.record)
            except RecordError as exc:
                item.reject(exc)
