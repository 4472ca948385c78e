"""Where `pipeline run` keeps each process's log on a terminal, and reading the problems in them.

`<state_dir>/logs/<name>.log` for `run` itself, `worker-<n>`, `api` and `demo`; each run moves
the previous run's file to `<name>.log.1`, so two runs are kept and nothing grows for ever.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__ = ["LogProblems", "Problem", "log_path", "logs_dir", "problem_in", "rotate"]

# The text format's line: `2026-12-03 16:40:01,123 ERROR pipeline.worker: message ...`
_TEXT_LINE = re.compile(r"^\S+ (\S+) (WARNING|ERROR|CRITICAL) (\S+): (.*)$")
# uvicorn's own format, which its loggers keep: `ERROR:    Exception in ASGI application`
_UVICORN_LINE = re.compile(r"^(WARNING|ERROR|CRITICAL):\s+(.*)$")
_PROBLEM_LEVELS = frozenset({"WARNING", "ERROR", "CRITICAL"})


def logs_dir(state_dir: Path) -> Path:
    """`<state_dir>/logs`."""
    return state_dir / "logs"


def log_path(state_dir: Path, name: str) -> Path:
    """The log file of process `name` (`worker-0`, `api`, `demo`, `run`)."""
    return logs_dir(state_dir) / f"{name}.log"


def rotate(path: Path) -> None:
    """Keep the previous run's log as `<name>.log.1` (replacing an older one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.replace(path.with_name(path.name + ".1"))


@dataclass(frozen=True, slots=True)
class Problem:
    """A warning or error one process logged."""

    at: str
    process: str
    level: str
    message: str


def problem_in(process: str, line: str) -> Problem | None:
    """The warning or error one log line (JSON or text format) records, else None."""
    line = line.strip()
    if line.startswith("{"):
        try:
            entry = json.loads(line)
        except ValueError:
            return None
        if not isinstance(entry, dict) or entry.get("level") not in _PROBLEM_LEVELS:
            return None
        return Problem(
            _clock(str(entry.get("timestamp", ""))),
            process,
            str(entry["level"]),
            str(entry.get("message", "")),
        )
    match = _TEXT_LINE.match(line)
    if match is not None:
        return Problem(match.group(1)[:8], process, match.group(2), match.group(4))
    match = _UVICORN_LINE.match(line)
    if match is not None:
        return Problem(datetime.now().strftime("%H:%M:%S"), process, match.group(1), match.group(2))
    return None


def _clock(timestamp: str) -> str:
    try:
        return datetime.fromisoformat(timestamp).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return ""


class LogProblems:
    """The last few problems found in a set of growing log files, read incrementally."""

    def __init__(self, keep: int = 5) -> None:
        self._recent: deque[Problem] = deque(maxlen=keep)
        self._lock = threading.Lock()  # the screen is drawn from another thread
        self._offsets: dict[Path, int] = {}

    def recent(self) -> list[Problem]:
        """The last problems, oldest first."""
        with self._lock:
            return list(self._recent)

    def add(self, problem: Problem) -> None:
        """Record a problem seen elsewhere (the supervisor's own log records)."""
        with self._lock:
            self._recent.append(problem)

    def scan(self, process: str, path: Path) -> None:
        """Read what `path` gained since the last scan (from its start when first seen)."""
        offset = self._offsets.get(path, 0)
        try:
            with path.open("rb") as handle:
                handle.seek(0, 2)
                if handle.tell() < offset:  # replaced by a new run's file
                    offset = 0
                handle.seek(offset)
                data = handle.read(1_048_576)
        except OSError:
            return
        complete = data.rfind(b"\n") + 1  # a half-written last line waits for the next scan
        self._offsets[path] = offset + complete
        for raw in data[:complete].splitlines():
            problem = problem_in(process, raw.decode("utf-8", "replace"))
            if problem is not None:
                self.add(problem)
