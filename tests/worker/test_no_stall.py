"""One record cannot stall a real worker: not a record over its time budget, not a record
whose dead letter is too large to send whole. The records after it are indexed and the
partition's offsets committed."""

from __future__ import annotations

import gzip
import json
import uuid

import pytest
from elasticsearch import Elasticsearch

from pipeline.ingest.validate import MAX_RECORD_BYTES
from pipeline.worker.app import PRODUCER_MAX_REQUEST_BYTES
from tests.harness import Deployment, wait_for
from tests.worker.support import committed, dead_letters, produce
from tests.worker.test_stream_path import count, report

pytestmark = pytest.mark.integration

BROKER_MAX_BYTES = 1_048_588  # Kafka's default message.max.bytes


def test_a_record_whose_dead_letter_is_too_large_leaves_a_truncated_one_and_the_stream_goes_on(
    deployment: Deployment, es: Elasticsearch
) -> None:
    run = uuid.uuid4().hex[:8]
    topic = deployment.topic("public-reports")
    # valid-looking JSON over the 512 KiB intake limit (so `too_large`), whose dead letter is
    # over the producer's 1 MB request size, but small gzip-compressed on the wire
    big_id = f"big-{run}"
    padding = "A long hotline transcript. " * 40_000
    big = json.dumps({"id": big_id, "received_at": "2026-11-20T10:15:00Z", "description": padding})
    value = big.encode()[: PRODUCER_MAX_REQUEST_BYTES + 20_000 - 2] + b'"}'
    assert MAX_RECORD_BYTES < PRODUCER_MAX_REQUEST_BYTES < len(value) < BROKER_MAX_BYTES
    assert len(gzip.compress(value)) < BROKER_MAX_BYTES // 10
    after = [
        (f"after-{run}-{n}".encode(), report(f"after-{run}-{n}", f"Van {n}")) for n in range(5)
    ]

    worker = deployment.start_worker()
    positions = produce(deployment, topic, [(big_id.encode(), value), *after], "gzip", partition=0)

    alias = deployment.settings.index_alias
    wait_for(lambda: count(es, alias) >= len(after), 180, "the records after it", worker.log)
    [letter] = dead_letters(deployment)
    assert (letter.origin_partition, letter.origin_offset) == positions[0]
    assert letter.reason == "too_large"
    assert letter.truncated and letter.original_size == len(value)
    assert letter.value is not None and value.startswith(letter.value)
    assert len(letter.value) > PRODUCER_MAX_REQUEST_BYTES - 10_000  # cut to fit, not dropped
    end = positions[-1][1] + 1
    wait_for(lambda: committed(deployment, topic) == end, 60, f"offsets committed to {end}")
    assert worker.alive(), worker.log()

    # the DLQ tools show the flag and refuse to replay it
    from pipeline.admin.dlq_store import replay

    result = replay(deployment.settings, [letter])
    [(skipped, why)] = result.skipped
    assert skipped == letter and "truncated" in why and not result.replayed


def test_a_record_over_its_time_budget_is_dead_lettered_and_the_others_indexed(
    deployment: Deployment, es: Elasticsearch
) -> None:
    # A tiny budget: a large valid record (NER on its first 20,000 characters: 0.45 to 1.5 s
    # of enrich on the machines seen so far; 0.5 s was once not enough) is over it, while a
    # short one (about 10 ms) is far under it.
    deployment.settings = deployment.settings.model_copy(
        update={"record_budget_s": 0.15, "batch_budget_s": 0.15}
    )
    run = uuid.uuid4().hex[:8]
    topic = deployment.topic("public-reports")
    sentence = "Mohammed Ali met John Smith in Leeds on Tuesday and drove AB12 CDE to M1 1AE. "
    slow_id = f"slow-{run}"
    slow = report(slow_id, (sentence * 2_000)[:99_000])
    short = [(f"s-{run}-{n}".encode(), report(f"s-{run}-{n}", f"Van {n} seen")) for n in range(6)]

    worker = deployment.start_worker()
    positions = produce(deployment, topic, [*short[:3], (slow_id.encode(), slow), *short[3:]])

    alias = deployment.settings.index_alias
    wait_for(lambda: count(es, alias) >= len(short), 180, "the short records", worker.log)
    wait_for(lambda: bool(dead_letters(deployment)), 60, "the dead letter", worker.log)
    [letter] = dead_letters(deployment)
    assert (letter.origin_partition, letter.origin_offset) == positions[3]
    assert (letter.reason, letter.stage) == ("processing_timeout", "enrich")
    assert not letter.truncated and letter.value == slow
    assert count(es, alias) == len(short)
    assert worker.alive(), worker.log()
