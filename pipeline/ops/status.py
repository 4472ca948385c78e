"""Burrow-like partition status: a pure function over a window of lag samples.

The rules, checked in this order over the samples of one partition (oldest first):

    REWIND  the committed offset went backwards between two samples (someone reset it)
    OK      the newest sample has no lag (a caught-up consumer is fine whatever came before)
    STOP    the group has no members in the newest sample: nobody will ever commit the lag
    STALL   members are there, the committed offset never moved and there was lag throughout
    WARN    the committed offset moves but the lag rose across the window (falling behind)
    OK      anything else: a busy consumer whose lag holds or shrinks

STALL and WARN need two samples or more: one sample cannot show movement.
A partition the group never committed (committed is None) has unknown lag; it is OK
unless the group is gone, since a new consumer starts from its reset policy there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

__all__ = ["SEVERITY", "PartitionSample", "Status", "evaluate", "is_alarming", "worst"]


class Status(StrEnum):
    """A partition's health as operators read it (contract §3)."""

    OK = "OK"
    WARN = "WARN"
    STALL = "STALL"
    STOP = "STOP"
    REWIND = "REWIND"


# Worst first: the order a summary picks the status to show for a whole group.
SEVERITY: tuple[Status, ...] = (
    Status.STOP,
    Status.STALL,
    Status.REWIND,
    Status.WARN,
    Status.OK,
)


@dataclass(frozen=True, slots=True)
class PartitionSample:
    """One observation of one group's position on one partition.

    `lag` is `end - committed` (None when the group never committed this partition);
    `has_members` is whether the group had any live member when sampled.
    """

    at: float
    committed: int | None
    end: int
    has_members: bool

    @property
    def lag(self) -> int | None:
        """Records written but not yet committed by the group."""
        if self.committed is None:
            return None
        return max(self.end - self.committed, 0)


def evaluate(samples: Sequence[PartitionSample]) -> Status:
    """The status of one partition given its samples, oldest first (see module docstring)."""
    if not samples:
        raise ValueError("evaluate() needs at least one sample")
    committed = [s.committed for s in samples if s.committed is not None]
    if any(later < earlier for earlier, later in pairwise(committed)):
        return Status.REWIND
    newest = samples[-1]
    if newest.lag is None:
        return Status.STOP if not newest.has_members and newest.end > 0 else Status.OK
    if newest.lag == 0:
        return Status.OK
    if not newest.has_members:
        return Status.STOP
    lags = [s.lag for s in samples]
    if len(samples) < 2 or any(lag is None or lag == 0 for lag in lags):
        return Status.OK
    if all(s.committed == newest.committed for s in samples):
        return Status.STALL
    known = [lag for lag in lags if lag is not None]
    rising = all(later >= earlier for earlier, later in pairwise(known))
    if rising and known[-1] > known[0]:
        return Status.WARN
    return Status.OK


def is_alarming(status: Status) -> bool:
    """True for the statuses that make `pipeline lag` exit non-zero."""
    return status in (Status.STALL, Status.STOP)


def worst(statuses: Sequence[Status]) -> Status:
    """The most severe of some statuses; OK for none."""
    present = set(statuses)
    return next((status for status in SEVERITY if status in present), Status.OK)
