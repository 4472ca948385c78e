"""The erasure steps as plain code: a set lookup drops erased records before anything reads
them, and an erasure that arrives while the batch runs still wins (README, "Erasure")."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import jsonschema_rs
import orjson
import pytest

from pipeline.flow.assemble import steps
from pipeline.flow.batch import BatchProcessor
from pipeline.ingest.erasure import Erasure, erasure_key, parse_key, record_key
from pipeline.ingest.sources import Source
from tests.worker.test_process import Deduplicator, Enricher, Sink, raw


@dataclass
class Ledger:
    """An in-memory ledger: `pending` keys arrive at the next catch-up."""

    keys: set[str] = field(default_factory=set)
    pending: list[set[str]] = field(default_factory=list)

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    def catch_up(self) -> set[str]:
        fresh = (self.pending.pop(0) if self.pending else set()) - self.keys
        self.keys |= fresh
        return fresh


@dataclass
class Purger:
    purged: list[set[str]] = field(default_factory=list)

    def purge(self, keys: Collection[str]) -> None:
        self.purged.append(set(keys))


def _processor(sink: Sink, ledger: Ledger, purger: Purger) -> BatchProcessor:
    return BatchProcessor(
        steps(
            enricher=Enricher(),
            deduplicator=Deduplicator(),
            sink=sink,
            index="r",
            erased=ledger,
            purger=purger,
        )
    )


def test_keys_are_source_colon_id() -> None:
    assert erasure_key("public_report", "PR:1") == "public_report:PR:1"
    assert parse_key("hotline_call:H-9") == (Source.HOTLINE_CALL, "H-9")
    assert record_key("t.intake.public-reports", b"PR-1") == "public_report:PR-1"
    assert record_key("t.intake.public-reports", None) is None
    assert record_key("elsewhere", b"PR-1") is None
    for bad in ("nocolon", "public_report:", "martian:1"):
        with pytest.raises(ValueError, match=r"SOURCE:ID|unknown source"):
            parse_key(bad)


def test_an_erasure_record_carries_who_when_why_and_never_content() -> None:
    when = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    erasure = Erasure("public_report:PR-1", "dpo", "court order 12", when)
    assert Erasure.from_json(erasure.to_json()) == erasure
    schema = orjson.loads((Path(__file__).parents[2] / "schemas" / "erasure.v1.json").read_bytes())
    assert jsonschema_rs.validator_for(schema, validate_formats=True).is_valid(
        orjson.loads(erasure.to_json())
    )
    assert set(orjson.loads(erasure.to_json())) == {
        "schema_version",
        "key",
        "who",
        "when",
        "why",
    }
    with pytest.raises(ValueError, match="not an erasure"):
        Erasure.from_json(b"{}")


def test_an_erased_record_is_neither_indexed_nor_dead_lettered() -> None:
    sink = Sink()
    ledger = Ledger(keys={"public_report:b", "public_report:bad"})
    records = [raw(0, "a"), raw(1, "b"), raw(2, "bad", value=b"{oops")]
    outcome = _processor(sink, ledger, Purger()).process(records)
    assert [r.source_id for r in outcome.indexed] == ["a"]
    assert sorted(r.offset for r in outcome.erased) == [1, 2]
    assert outcome.rejected == []  # not even the broken one: it is erased
    assert sink.written == ["a"]


def test_an_erasure_arriving_mid_batch_wins() -> None:
    sink = Sink()
    # nothing at the first look; then `b` is erased while the batch is being indexed
    ledger = Ledger(pending=[set(), {"public_report:b"}])
    purger = Purger()
    outcome = _processor(sink, ledger, purger).process([raw(0, "a"), raw(1, "b")])
    assert sink.written == ["a", "b"]  # it got written before the erasure was seen ...
    assert purger.purged == [{"public_report:b"}]  # ... so it is purged again at the end
    assert [r.source_id for r in outcome.indexed] == ["a"]
    assert [r.offset for r in outcome.erased] == [1]


def test_new_erasures_are_purged_at_the_first_step_too() -> None:
    ledger = Ledger(pending=[{"public_report:zz"}])
    purger = Purger()
    _processor(Sink(), ledger, purger).process([raw(0, "a")])
    assert purger.purged == [{"public_report:zz"}]
