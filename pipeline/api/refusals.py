"""Refused API requests (401/403/413/429) as audit records, aggregated so a flood stays small.

Per (client address, user) and window (a minute by default): the first refusal becomes a
record at once, every later one in the window is only counted, and the count becomes one
summary record when the window closes. Past `max_windows` clients in a window, the rest
share one window (client `*`). So at most 2 x (max_windows + 1) records per window, whatever
arrives. The decisions are pure; the middleware writes what `note` and `due` return.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.api.audit import Action
from pipeline.api.models import AuditEntry

__all__ = ["REFUSED_STATUSES", "Refusal", "RefusalLog"]

REFUSED_STATUSES = frozenset({401, 403, 413, 429})
OVERFLOW = "*"


@dataclass(frozen=True, slots=True)
class Refusal:
    """One refused request: who (when known), from where, what, and the answer."""

    client: str
    user: str | None
    role: str | None
    status: int
    route: str


@dataclass(slots=True)
class _Window:
    client: str
    user: str | None
    role: str | None
    opened: float
    first: datetime
    last: datetime
    pending: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)

    def add(self, refusal: Refusal, at: datetime) -> None:
        self.last = at
        self.statuses[str(refusal.status)] += 1
        self.routes[refusal.route] += 1

    def entry(self, count: int, at: datetime, window_s: float) -> AuditEntry:
        return AuditEntry(
            timestamp=at,
            user=self.user or "anonymous",
            role=self.role or "none",
            action=Action.REFUSED.value,
            justification="",
            query={
                "client": self.client,
                "count": count,
                "statuses": dict(self.statuses),
                "routes": dict(self.routes),
                "first": self.first.isoformat(),
                "last": self.last.isoformat(),
                "window_s": window_s,
            },
            channel="api",
        )


class RefusalLog:
    """Decides which audit records the refused requests become (see the module docstring)."""

    def __init__(
        self,
        *,
        window_s: float = 60.0,
        max_windows: int = 100,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.window_s = window_s
        self.max_windows = max_windows
        self._clock = clock
        self._now = now
        self._windows: dict[tuple[str, str | None], _Window] = {}
        self._next_due = float("inf")

    def note(self, refusal: Refusal) -> list[AuditEntry]:
        """Count one refusal; the records to write now (its own, if it opens a window)."""
        entries = self.due()
        at = self._now()
        key = (refusal.client, refusal.user)
        window = self._windows.get(key)
        if window is None and len(self._windows) >= self.max_windows:
            key = (OVERFLOW, None)
            window = self._windows.get(key)
        if window is not None:
            window.add(refusal, at)
            window.pending += 1
            return entries
        if key[0] == OVERFLOW:
            window = _Window(OVERFLOW, None, None, opened=self._clock(), first=at, last=at)
        else:
            window = _Window(
                refusal.client, refusal.user, refusal.role, opened=self._clock(), first=at, last=at
            )
        window.add(refusal, at)
        entries.append(window.entry(1, at, self.window_s))
        # The summary at the window's end counts only the refusals after this first one.
        window.statuses.clear()
        window.routes.clear()
        self._windows[key] = window
        self._next_due = min(self._next_due, window.opened + self.window_s)
        return entries

    def due(self, *, everything: bool = False) -> list[AuditEntry]:
        """Close the windows that are over (all of them with `everything`): their summaries."""
        now = self._clock()
        if not everything and now < self._next_due:
            return []
        entries: list[AuditEntry] = []
        at = self._now()
        for key, window in list(self._windows.items()):
            if everything or now >= window.opened + self.window_s:
                del self._windows[key]
                if window.pending:
                    entries.append(window.entry(window.pending, at, self.window_s))
        self._next_due = min(
            (w.opened + self.window_s for w in self._windows.values()), default=float("inf")
        )
        return entries
