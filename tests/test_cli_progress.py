"""Progress of long commands: bars on a terminal, nothing extra anywhere else."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress, TextColumn

from pipeline.cli.progress import Bars, bars
from pipeline.cli.publish import _size


def test_no_bars_when_stderr_is_not_a_terminal() -> None:
    with bars() as shown:  # pytest captures stderr: not a terminal
        assert shown is None


def test_one_bar_per_phase_with_done_of_total() -> None:
    console = Console(file=io.StringIO(), width=80, record=True, force_terminal=True)
    progress = Progress(TextColumn("{task.description}"), MofNCompleteColumn(), console=console)
    with progress:
        shown = Bars(progress)
        shown("copy", 5, 10)
        shown("copy", 10, 10)
        shown("catch-up", 3, None)
    tasks = [(t.description, t.completed, t.total) for t in progress.tasks]
    assert tasks == [("copy", 10, 10), ("catch-up", 3, None)]
    assert "catch-up 3/?" in console.export_text()


def test_a_files_size_is_known_and_a_pipes_is_not(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_bytes(b"{}\n" * 7)
    with path.open("rb") as handle:
        assert _size(handle) == 21
    assert _size(io.BytesIO(b"{}\n")) is None
