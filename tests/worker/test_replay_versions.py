"""A dead-letter replay keeps its original's version: an old revision replayed ends `stale`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from pipeline.admin.dlq_store import replay
from pipeline.errors import RecordError
from pipeline.index.document import doc_version
from pipeline.ingest.dlq import DeadLetter, dead_letter_message, replay_message
from pipeline.ingest.records import FIRST_TIMESTAMP, RawRecord
from pipeline.ingest.validate import parse_record
from pipeline.settings import Settings
from tests.harness import Deployment, wait_for
from tests.worker.support import (
    committed,
    dead_letters,
    produce,
    records_counted,
    reindex_from_kafka,
    worker_deployment,
)

TOPIC = "intake.public-reports"
FIRST_MS = 1_772_353_800_123  # when the original was published
VALUE = json.dumps(
    {"id": "r1", "received_at": "2026-11-20T10:15:00Z", "description": "A van by the gates."}
).encode()


def dead_lettered(raw: RawRecord, dlq_offset: int) -> DeadLetter:
    """`raw` failed (say Elasticsearch refused it): its dead letter as read back from the DLQ."""
    error = RecordError("Elasticsearch rejected the document", stage="index", reason="rejected")
    key, value, headers = dead_letter_message(raw, error)
    return DeadLetter.from_record(RawRecord("intake.dlq", 0, dlq_offset, key, value, headers))


def replayed(letter: DeadLetter, offset: int, timestamp_ms: int) -> RawRecord:
    """The replay as the worker reads it: a new offset and a newer Kafka timestamp."""
    key, value, headers = replay_message(letter)
    return RawRecord(TOPIC, 2, offset, key, value, headers, timestamp_ms)


def test_the_original_time_survives_every_dead_letter_and_replay() -> None:
    original = RawRecord(TOPIC, 2, 10, b"r1", VALUE, (("trace", b"t-1"),), FIRST_MS)
    letter = dead_lettered(original, dlq_offset=0)
    again = replayed(letter, offset=50, timestamp_ms=FIRST_MS + 60_000)
    assert doc_version(parse_record(again)) == FIRST_MS

    # it fails again: the second dead letter keeps the first publication's time, once
    second = dead_lettered(again, dlq_offset=1)
    assert [v for k, v in second.original_headers if k == FIRST_TIMESTAMP] == [b"1772353800123"]
    assert ("trace", b"t-1") in second.original_headers
    third = replayed(second, offset=90, timestamp_ms=FIRST_MS + 120_000)
    assert doc_version(parse_record(third)) == FIRST_MS
    assert second.replay_count == 1 and dict(third.headers)["pipeline.replay.count"] == b"2"


def test_a_record_never_dead_lettered_or_without_a_time_carries_no_header() -> None:
    fresh = RawRecord(TOPIC, 2, 10, b"r1", VALUE, (), FIRST_MS)
    assert parse_record(fresh).origin.first_timestamp_ms is None
    untimed = dead_lettered(RawRecord(TOPIC, 2, 11, b"r1", VALUE, (), None), dlq_offset=0)
    assert all(k != FIRST_TIMESTAMP for k, _ in untimed.original_headers)


@pytest.mark.parametrize("garbled", [b"", b"soon", b"-5", b"\xd9\xa3", b"9" * 19])
def test_a_garbled_header_is_ignored(garbled: bytes) -> None:
    raw = RawRecord(TOPIC, 2, 10, b"r1", VALUE, ((FIRST_TIMESTAMP, garbled),), FIRST_MS)
    assert raw.first_timestamp_ms is None
    assert doc_version(parse_record(raw)) == FIRST_MS


# ---- on the real stack -------------------------------------------------------------------

LIMIT = "index.mapping.nested_objects.limit"


@pytest.fixture
def log_append(
    settings: Settings, unique_name: Callable[[str], str], tmp_path: Path
) -> Iterator[Deployment]:
    """A deployment whose topics stamp records with the broker's LogAppendTime: a producer's
    clock cannot matter, and a replay gets a newer timestamp than every earlier record."""
    configs = {"message.timestamp.type": "LogAppendTime"}
    with worker_deployment(settings, unique_name("rv"), tmp_path, configs) as deployment:
        yield deployment


def report(record_id: str, text: str) -> tuple[bytes, bytes]:
    body = {"id": record_id, "received_at": "2026-11-20T10:15:00+00:00", "description": text}
    return record_id.encode(), json.dumps(body).encode()


def text_of(es: Elasticsearch, alias: str, record_id: str) -> str | None:
    if not es.indices.exists_alias(name=alias):
        return None
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, query={"term": {"source_id": record_id}})["hits"]["hits"]
    assert len(hits) <= 1, hits
    return str(hits[0]["_source"]["text"]) if hits else None


@pytest.mark.integration
@pytest.mark.slow
def test_a_replayed_old_revision_ends_stale_and_the_newer_document_stays(
    log_append: Deployment, es: Elasticsearch
) -> None:
    deployment, run = log_append, uuid.uuid4().hex[:8]
    alias, topic = deployment.settings.index_alias, deployment.topic("public-reports")
    x, y = f"{run}-x", f"{run}-y"
    worker = deployment.start_worker()
    produce(deployment, topic, [report(f"{run}-w", "Nothing more to report this morning.")])
    wait_for(lambda: text_of(es, alias, f"{run}-w") is not None, 180, "the index", worker.log)

    # Revision 1 of x and y each name a phone and a vehicle: two nested mentions, which an
    # index setting (too strict, say) refuses: both are dead-lettered as `index_rejected`.
    es.indices.put_settings(index=alias, settings={LIMIT: 1})
    rev1 = "Caller on 020 7946 0123 saw AB12 CDE parked outside the station."
    produce(deployment, topic, [report(x, rev1), report(y, rev1)])
    wait_for(lambda: len(dead_letters(deployment)) >= 2, 120, "two dead letters", worker.log)
    # upstream then sends a corrected revision 2 of x, which is indexed
    rev2 = "Update: the car has gone and the caller has nothing further to add."
    produce(deployment, topic, [report(x, rev2)])
    wait_for(lambda: text_of(es, alias, x) == rev2, 120, "revision 2 of x", worker.log)

    # y's dead letter replayed before the fix fails again: a second dead letter
    first_letters = dead_letters(deployment)
    replay(deployment.settings, [letter for letter in first_letters if letter.key == y.encode()])
    wait_for(lambda: len(dead_letters(deployment)) >= 3, 120, "y dead again", worker.log)

    # the operator lifts the limit and replays every dead letter, twice over
    es.indices.put_settings(index=alias, settings={LIMIT: 10_000})
    letters = dead_letters(deployment)
    assert len(letters) == 3 and {letter.reason for letter in letters} == {"index_rejected"}
    replay(deployment.settings, letters)
    replay(deployment.settings, letters)
    sent = 1 + 2 + 1 + 1 + 2 * len(letters)
    wait_for(lambda: committed(deployment, topic) >= sent, 120, "the replays", worker.log)

    assert text_of(es, alias, x) == rev2, "a replay of revision 1 overwrote revision 2"
    assert text_of(es, alias, y) == rev1, "a replay filling a gap must be indexed"
    assert records_counted(worker, "stale") == 2, "each replay of x's revision 1 must end stale"
    assert len(dead_letters(deployment)) == 3, "the replays after the fix must not fail"

    # every dead letter carries its original's time: y's first and its replay's, the same one
    stamps = [
        (letter.key, dict(letter.original_headers).get(FIRST_TIMESTAMP)) for letter in letters
    ]
    assert all(stamp is not None for _, stamp in stamps), stamps
    assert len({stamp for key, stamp in stamps if key == y.encode()}) == 1, stamps

    # and a rebuild from Kafka reads the same versions: revision 2 of x still wins
    worker.stop()
    before = list(es.indices.get_alias(name=alias))
    rebuilt = reindex_from_kafka(deployment)
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    after = list(es.indices.get_alias(name=alias))
    assert len(after) == 1 and after != before, (before, after)
    assert text_of(es, alias, x) == rev2, "the rebuilt index let a replay beat revision 2"
    assert text_of(es, alias, y) == rev1
