"""Progress of a long command (`reindex`, `dlq replay`, `publish`, `demo`) on a terminal.

On a terminal, stderr shows one rich progress bar per phase; anywhere else `bars()` gives
None and each command prints what it always printed, so scripts and logs see no difference.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["Bars", "bars"]


class Bars:
    """One bar per phase, made the first time the phase reports."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        """Show `done` of `total` (None: not known, the bar pulses) for `phase`."""
        task = self._tasks.get(phase)
        if task is None:
            task = self._tasks[phase] = self._progress.add_task(phase, total=total)
        self._progress.update(task, completed=done, total=total)

    @property
    def console(self) -> Console:
        """Print through this, above the bars, so they stay whole."""
        return self._progress.console


@contextmanager
def bars() -> Iterator[Bars | None]:
    """Progress bars on stderr when it is a terminal, else None."""
    if not sys.stderr.isatty():
        yield None
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    with progress:
        yield Bars(progress)
