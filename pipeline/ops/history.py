"""A sliding window of lag samples per partition, and the rows operators read from it."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from pipeline.ops.status import PartitionSample, Status, evaluate, is_alarming, worst

if TYPE_CHECKING:
    from pipeline.ops.lag import GroupSnapshot

__all__ = ["LagRow", "LagTracker"]

_Key = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class LagRow:
    """One group/topic/partition as `pipeline lag` shows it (also the `--json` shape)."""

    group: str
    topic: str
    partition: int
    committed: int | None
    end: int
    lag: int | None
    lag_seconds: float | None
    status: Status
    group_state: str
    members: int

    def as_json(self) -> dict[str, Any]:
        """A JSON-able dict; the status as its name."""
        data = asdict(self)
        data["status"] = str(self.status)
        if self.lag_seconds is not None:
            data["lag_seconds"] = round(self.lag_seconds, 3)
        return data


class LagTracker:
    """Keeps the last `window` samples of every partition and judges each with `evaluate`.

    Feed it with `add(snapshots)` after every probe; partitions missing from the newest
    snapshot of their group (offsets deleted, topic gone) are forgotten.
    """

    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.window = window
        self._samples: dict[_Key, deque[PartitionSample]] = {}
        self._latest: dict[_Key, LagRow] = {}
        self._groups: dict[str, tuple[str, int]] = {}

    def add(self, snapshots: Iterable[GroupSnapshot]) -> None:
        """Record one sample of each group's partitions."""
        for snap in snapshots:
            self._groups[snap.group] = (snap.state, snap.members)
            seen: set[_Key] = set()
            for pos in snap.positions:
                key = (snap.group, pos.topic, pos.partition)
                seen.add(key)
                history = self._samples.setdefault(key, deque(maxlen=self.window))
                history.append(
                    PartitionSample(
                        at=snap.at,
                        committed=pos.committed,
                        end=pos.end,
                        has_members=snap.has_members,
                    )
                )
                self._latest[key] = LagRow(
                    group=snap.group,
                    topic=pos.topic,
                    partition=pos.partition,
                    committed=pos.committed,
                    end=pos.end,
                    lag=pos.lag,
                    lag_seconds=pos.lag_seconds(snap.at),
                    status=evaluate(list(history)),
                    group_state=snap.state,
                    members=snap.members,
                )
            for key in [k for k in self._samples if k[0] == snap.group and k not in seen]:
                del self._samples[key]
                del self._latest[key]

    def rows(self) -> list[LagRow]:
        """The newest row of every tracked partition, by group (as first seen), topic, partition."""
        order = {group: i for i, group in enumerate(self._groups)}
        return sorted(self._latest.values(), key=lambda r: (order[r.group], r.topic, r.partition))

    def groups(self) -> dict[str, tuple[str, int]]:
        """Every group seen, as first seen, with its newest (state, member count)."""
        return dict(self._groups)

    def samples(self, group: str, topic: str, partition: int) -> list[PartitionSample]:
        """The window of samples held for one partition, oldest first."""
        return list(self._samples.get((group, topic, partition), ()))

    def overall(self) -> Status:
        """The worst status among all tracked partitions (OK when none)."""
        return worst([row.status for row in self._latest.values()])

    def alarming(self) -> list[LagRow]:
        """Rows that are STALL or STOP."""
        return [row for row in self.rows() if is_alarming(row.status)]
