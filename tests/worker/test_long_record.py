"""A valid report far longer than NER reads, through a real worker: indexed whole, marked.

Issue 16: a public report whose narrative was a pasted article over 100,000 characters was
dead-lettered as `too_long` although the record was well under the 512 KiB limit. Now it is
indexed in full with the default time budgets: its text whole, the mentions at its end found,
`entities_truncated: true`; the reports after it in the same partition are indexed too.
"""

from __future__ import annotations

import uuid

import pytest
from elasticsearch import Elasticsearch

from bench.extractors import plain_text
from pipeline.ingest.validate import MAX_RECORD_BYTES
from tests.harness import Deployment, wait_for
from tests.worker.support import committed, dead_letters, produce
from tests.worker.test_stream_path import count, report

pytestmark = pytest.mark.integration

LENGTH = 300_000
ENDING = "\n\nRing 0161  496  0229 or write to tips@example.org about ab12 cde near s1 2hh."


def test_a_300000_character_report_is_indexed_whole_and_marked(
    deployment: Deployment, es: Elasticsearch
) -> None:
    run = uuid.uuid4().hex[:8]
    topic = deployment.topic("public-reports")
    long_id = f"long-{run}"
    narrative = plain_text(LENGTH - len(ENDING)) + ENDING
    value = report(long_id, narrative)
    assert len(narrative) == LENGTH and len(value) < MAX_RECORD_BYTES
    after = [
        (f"after-{run}-{n}".encode(), report(f"after-{run}-{n}", f"Van {n}")) for n in range(3)
    ]

    worker = deployment.start_worker()
    positions = produce(deployment, topic, [(long_id.encode(), value), *after], partition=0)

    alias = deployment.settings.index_alias
    wait_for(lambda: count(es, alias) >= 1 + len(after), 240, "all four reports", worker.log)
    hits = es.search(index=alias, query={"term": {"source_id": long_id}})["hits"]["hits"]
    [document] = [hit["_source"] for hit in hits]
    assert document["text"] == narrative
    assert document["entities_truncated"] is True
    assert "+441614960229" in document["entities"]["phone"]
    assert {"AB12CDE"} <= set(document["entities"]["vehicle"])
    assert "S1 2HH" in document["entities"]["postcode"]
    tail = [m for m in document["entity_mentions"] if m["start"] >= LENGTH - len(ENDING)]
    assert {m["type"] for m in tail} >= {"phone", "email", "vehicle", "postcode"}
    for mention in tail:
        assert narrative[mention["start"] : mention["end"]] == mention["text"]

    truncated = es.count(index=alias, query={"term": {"entities_truncated": True}})["count"]
    assert truncated == 1  # the short reports carry no flag
    assert dead_letters(deployment) == []
    end = positions[-1][1] + 1
    wait_for(lambda: committed(deployment, topic) == end, 60, f"offsets committed to {end}")
    assert worker.alive(), worker.log()
