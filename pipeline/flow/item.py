"""One record on its way along the batch path: what each step has made of it so far.

Steps (pipeline/flow/batch.py) read what the steps before them set and fill in their own part;
a step that cannot go on with a record rejects it, and the record leaves the path as a dead
letter. This module is the only part of `flow/` that stage packages import: a step lives
beside the stage it runs (`ingest/step.py`, `enrich/step.py`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

from pipeline.errors import RecordError
from pipeline.ingest.records import RawRecord

if TYPE_CHECKING:
    from pipeline.enrich.clusters import ClusterAssignment
    from pipeline.enrich.incidents.decide import IncidentAssignment
    from pipeline.enrich.mentions import Enrichment
    from pipeline.ingest.report import Report

__all__ = ["Item", "Rejection", "Settled"]

Settled = Literal["indexed", "stale"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that leaves the path for the dead-letter topic, and why."""

    record: RawRecord
    error: RecordError


@dataclass(slots=True, eq=False)
class Item:
    """One record of a batch; the fields below `record` are set by the step named beside them."""

    record: RawRecord
    report: Report | None = None  # ingest: the validated report
    enrichment: Enrichment | None = None  # enrich: entities and region
    cluster: ClusterAssignment | None = None  # dedup: duplicate cluster
    incident: IncidentAssignment | None = None  # incidents: the event it tells of
    settled: Settled | None = None  # index: written, or a stale replay (both success)
    rejection: Rejection | None = None  # any step: why it left the path
    erased: bool = False  # erasure: dropped, its report erased (neither indexed nor dead letter)

    @property
    def open(self) -> bool:
        """Still on the path: not rejected. A settled (indexed) record goes on through the
        steps after `index`, which act on what was written (alerts). An erased record is not."""
        return self.rejection is None and not self.erased

    def erase(self) -> None:
        """Take the record off the path for good: its report is erased (pipeline.ingest.erasure)."""
        self.erased = True

    def reject(self, error: RecordError) -> None:
        """Take the record off the path: it becomes a dead letter with `error`."""
        self.rejection = Rejection(self.record, error)

    def settle(self, how: Settled) -> None:
        """The record reached the index (or was already there in a newer version)."""
        self.settled = how


def needs(value: T | None, what: str, step: str) -> T:
    """`value`, set by an earlier step; its absence is a misassembled path, not a bad record."""
    if value is None:
        raise RuntimeError(f"the {step} step needs {what}, which no earlier step set")
    return value
