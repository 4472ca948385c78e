"""Read consumer-group positions from Kafka: committed offset, end offset and record age.

`LagProbe.snapshot(groups)` returns one `GroupSnapshot` per group. It asks the group
coordinator for committed offsets and members (admin client), the partition leaders for
end offsets, and, for each partition with lag, reads the record AT the committed offset
(assign + seek on a short-lived consumer that joins no group) to learn its timestamp:
lag in seconds is the age of the oldest record the group has not processed yet.
Record timestamps never change, so they are cached by (topic, partition, offset).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from pipeline.errors import map_kafka_errors
from pipeline.ops.kafka_clients import build_client
from pipeline.settings import Settings

__all__ = ["GroupSnapshot", "LagProbe", "Position"]

# Group states in which the coordinator has no live member (classic group protocol).
_MEMBERLESS_STATES = frozenset({"Empty", "Dead", ""})


@dataclass(frozen=True, slots=True)
class Position:
    """One group's position on one partition at one moment."""

    topic: str
    partition: int
    committed: int | None
    end: int
    oldest_unprocessed_ms: int | None

    @property
    def lag(self) -> int | None:
        """Records written but not yet committed (None when never committed)."""
        return None if self.committed is None else max(self.end - self.committed, 0)

    def lag_seconds(self, now: float) -> float | None:
        """Age of the oldest unprocessed record: 0 without lag, None when unknown."""
        lag = self.lag
        if lag is None:
            return None
        if lag == 0:
            return 0.0
        if self.oldest_unprocessed_ms is None:
            return None
        return max(now - self.oldest_unprocessed_ms / 1000.0, 0.0)


@dataclass(frozen=True, slots=True)
class GroupSnapshot:
    """Everything read about one consumer group in one sample."""

    group: str
    state: str
    members: int
    at: float
    positions: tuple[Position, ...]

    @property
    def has_members(self) -> bool:
        """Whether any consumer is in the group right now."""
        return self.members > 0 and self.state not in _MEMBERLESS_STATES


class LagProbe:
    """Samples consumer groups; holds one admin client and one group-less consumer.

    Use as a context manager or call `close()`. Not thread-safe: one probe per thread.
    """

    def __init__(self, settings: Settings, *, timeout_s: float | None = None) -> None:
        self._settings = settings
        self._timeout_s = timeout_s or settings.lag_request_timeout_s
        self._timeout_ms = int(self._timeout_s * 1000)
        self._admin: Any = None
        self._consumer: Any = None
        self._timestamps: dict[tuple[str, int, int], int | None] = {}

    def __enter__(self) -> LagProbe:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close both clients; the probe can be used again afterwards (it reconnects)."""
        for client in (self._consumer, self._admin):
            if client is not None:
                client.close()
        self._admin = self._consumer = None

    def snapshot(self, groups: list[str]) -> list[GroupSnapshot]:
        """One snapshot per group, in the order given."""
        with map_kafka_errors("reading consumer-group lag"):
            self._connect()
            described = self._admin.describe_groups(groups)
            committed = self._admin.list_group_offsets({group: None for group in groups})
            snapshots = []
            for group in groups:
                info = described.get(group) or {}
                offsets = {
                    (tp.topic, tp.partition): meta.offset
                    for tp, meta in committed.get(group, {}).items()
                    if meta.offset is not None and meta.offset >= 0
                }
                assigned = set(_assigned_partitions(info))
                snapshots.append(self._group_snapshot(group, info, offsets, assigned))
            return snapshots

    def _connect(self) -> None:
        if self._admin is None:
            self._admin = build_client(KafkaAdminClient, self._settings, self._timeout_s)
        if self._consumer is None:
            self._consumer = build_client(
                KafkaConsumer,
                self._settings,
                self._timeout_s,
                group_id=None,
                enable_auto_commit=False,
                # A committed offset already deleted by retention: the oldest record left
                # is the oldest unprocessed one.
                auto_offset_reset="earliest",
                max_partition_fetch_bytes=64 * 1024,
            )

    def _group_snapshot(
        self,
        group: str,
        info: dict[str, Any],
        offsets: dict[tuple[str, int], int],
        assigned: set[tuple[str, int]],
    ) -> GroupSnapshot:
        keys = sorted(self._existing(set(offsets) | assigned))
        ends = self._consumer.end_offsets(
            [TopicPartition(t, p) for t, p in keys], timeout_ms=self._timeout_ms
        )
        end_by_key = {(tp.topic, tp.partition): int(end) for tp, end in ends.items()}
        wanted = {
            (t, p, offsets[t, p])
            for t, p in keys
            if (t, p) in offsets and end_by_key.get((t, p), 0) > offsets[t, p]
        }
        self._read_timestamps(wanted)
        positions = tuple(
            Position(
                topic=t,
                partition=p,
                committed=offsets.get((t, p)),
                end=end_by_key.get((t, p), 0),
                oldest_unprocessed_ms=(
                    self._timestamps.get((t, p, offsets[t, p])) if (t, p) in offsets else None
                ),
            )
            for t, p in keys
        )
        members = info.get("members") or []
        return GroupSnapshot(
            group=group,
            state=str(info.get("group_state", "")),
            members=len(members),
            at=time.time(),
            positions=positions,
        )

    def _existing(self, keys: set[tuple[str, int]]) -> set[tuple[str, int]]:
        """Drop partitions of topics deleted since the group committed to them."""
        topics = self._consumer.topics()
        return {key for key in keys if key[0] in topics}

    def _read_timestamps(self, wanted: set[tuple[str, int, int]]) -> None:
        """Fetch the timestamp of the record at each (topic, partition, offset) not cached."""
        missing = {(t, p): o for t, p, o in wanted if (t, p, o) not in self._timestamps}
        if not missing:
            return
        partitions = [TopicPartition(t, p) for t, p in missing]
        self._consumer.assign(partitions)
        for tp in partitions:
            self._consumer.seek(tp, missing[tp.topic, tp.partition])
        pending = set(partitions)
        deadline = time.monotonic() + self._timeout_ms / 1000.0
        while pending and time.monotonic() < deadline:
            for tp, records in self._consumer.poll(timeout_ms=200).items():
                if tp in pending and records:
                    # The first record at or after the committed offset: offsets can have gaps
                    # (compaction, transaction markers).
                    key = (tp.topic, tp.partition, missing[tp.topic, tp.partition])
                    self._timestamps[key] = int(records[0].timestamp)
                    pending.discard(tp)
                    self._consumer.pause(tp)
        self._consumer.assign([])
        if len(self._timestamps) > 100_000:
            self._timestamps.clear()


def _assigned_partitions(info: dict[str, Any]) -> list[tuple[str, int]]:
    """(topic, partition) pairs assigned to the group's members, from a described group."""
    pairs: list[tuple[str, int]] = []
    for member in info.get("members") or []:
        assignment = member.get("member_assignment")
        if not isinstance(assignment, dict):
            continue
        for entry in assignment.get("assigned_partitions") or []:
            topic = entry.get("topic")
            pairs.extend((topic, int(p)) for p in entry.get("partitions") or [])
    return pairs
