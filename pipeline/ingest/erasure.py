"""Erasure records (contract §4, `intake.erasures`) and the steps that keep erased reports out.

An erasure is keyed `source:id` (the index's `source` and the upstream `id`) and says who
erased the report, when and why, never what it said. `DropErased`, the batch path's first
step, takes every record whose key the ledger holds off the path before anything reads its
value: it is neither validated, enriched, indexed nor dead-lettered. `RecheckErased`, the
last step, catches the ledger up again and purges what an erasure that arrived while the
batch ran let through, so the erasure wins whatever the order (README, "Erasure").
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from pipeline.flow.item import Item
from pipeline.ingest.sources import Source
from pipeline.ingest.validate import source_for_topic

__all__ = [
    "ERASURES_TOPIC",
    "DropErased",
    "ErasedKeys",
    "Erasure",
    "Purges",
    "RecheckErased",
    "erasure_key",
    "erasures_topic",
    "parse_key",
    "record_key",
]

ERASURES_TOPIC = "intake.erasures"
SCHEMA_VERSION = 1


def erasures_topic(prefix: str = "") -> str:
    """The erasure ledger's topic, with the deployment's topic prefix applied."""
    return f"{prefix}{ERASURES_TOPIC}"


def erasure_key(source: str, source_id: str) -> str:
    """`source:id`, the ledger's key of one report."""
    return f"{source}:{source_id}"


def parse_key(text: str) -> tuple[Source, str]:
    """(source, id) of `source:id`; ValueError names what is wrong."""
    source, sep, source_id = text.partition(":")
    if not sep or not source_id:
        raise ValueError(f"{text!r} is not SOURCE:ID")
    try:
        return Source(source), source_id
    except ValueError:
        known = ", ".join(s.value for s in Source)
        raise ValueError(f"{text!r}: unknown source {source!r} (one of {known})") from None


def record_key(topic: str, key: bytes | None) -> str | None:
    """The ledger key of an intake record (or of a dead letter's origin): None when the
    topic is no intake topic or the record has no key (it cannot name an erased report)."""
    source = source_for_topic(topic)
    if source is None or key is None:
        return None
    return erasure_key(source.value, key.decode("utf-8", "replace"))


@dataclass(frozen=True, slots=True)
class Erasure:
    """One erasure as the ledger holds it (schemas/erasure.v1.json)."""

    key: str
    who: str
    why: str
    when: datetime

    @staticmethod
    def now(key: str, who: str, why: str) -> Erasure:
        """An erasure of `key` made now."""
        return Erasure(key=key, who=who, why=why, when=datetime.now(UTC))

    def to_json(self) -> bytes:
        """The record's value."""
        body = {
            "schema_version": SCHEMA_VERSION,
            "key": self.key,
            "who": self.who,
            "when": self.when.isoformat(),
            "why": self.why,
        }
        return orjson.dumps(body)

    @staticmethod
    def from_json(value: bytes) -> Erasure:
        """Inverse of `to_json`; ValueError when the value is no erasure."""
        try:
            body: Any = orjson.loads(value)
            return Erasure(
                key=str(body["key"]),
                who=str(body["who"]),
                why=str(body["why"]),
                when=datetime.fromisoformat(str(body["when"])),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an erasure record: {exc}") from exc


class ErasedKeys(Protocol):
    """The erasure ledger as the steps need it (pipeline.enrich.erasure.ErasureLedger)."""

    def __contains__(self, key: object) -> bool: ...

    def catch_up(self) -> set[str]:
        """Read the ledger to its current end; the keys erased since the last call."""
        ...


class Purges(Protocol):
    """Removes erased reports' derived data (pipeline.enrich.erasure.Purger)."""

    def purge(self, keys: Collection[str]) -> None: ...


def _drop(items: Sequence[Item], erased: ErasedKeys) -> list[Item]:
    dropped = []
    for item in items:
        key = record_key(item.record.topic, item.record.key)
        if key is not None and key in erased:
            item.erase()
            dropped.append(item)
    return dropped


@dataclass(frozen=True)
class DropErased:
    """First step: records of erased reports leave the path (a set lookup per record).

    Erasures that came in since the last batch are purged here too (a live worker is how
    erasures made through the API, which may not delete, reach the index and dedup state).
    """

    erased: ErasedKeys
    purger: Purges | None = None
    name: str = "erasure"
    interruptible: bool = False

    def run(self, items: Sequence[Item]) -> None:
        """Catch the ledger up, purge what is new, drop the items it names."""
        fresh = self.erased.catch_up()
        if fresh and self.purger is not None:
            self.purger.purge(fresh)
        _drop(items, self.erased)

    def close(self) -> None:
        """Close the ledger's connection (the worker's runtime calls it at shutdown)."""
        close = getattr(self.erased, "close", None)
        if close is not None:
            close()


@dataclass(frozen=True)
class RecheckErased:
    """Last step: an erasure that arrived mid-batch still wins.

    The ledger is read to the end offsets of now, which include every erasure appended
    before its purge began; what the batch wrote for those reports is purged again.
    """

    erased: ErasedKeys
    purger: Purges | None = None
    name: str = "erasure-recheck"
    interruptible: bool = False

    def run(self, items: Sequence[Item]) -> None:
        """Catch the ledger up; purge what is new and drop the items it names."""
        fresh = self.erased.catch_up()
        if not fresh:
            return
        if self.purger is not None:
            self.purger.purge(fresh)
        _drop(items, self.erased)
