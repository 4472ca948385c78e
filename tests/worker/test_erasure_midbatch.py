"""An erasure that arrives while its record is mid-batch still wins: the batch path over the
real ledger topic, dedup state and index (the NER stand-in aside), with the erasure made, as
`pipeline erase` makes it, between the batch's first look at the ledger and its index write."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from pipeline.admin.topics import ERASURES_CONFIGS
from pipeline.clients import kafka_config
from pipeline.enrich.dedup import Deduplicator
from pipeline.enrich.dedup.keys import report_key
from pipeline.enrich.dedup.state import state_index
from pipeline.enrich.erasure import ErasureLedger, Purger, append_erasures
from pipeline.flow.assemble import steps
from pipeline.flow.batch import BatchProcessor
from pipeline.flow.item import Item
from pipeline.index.document import doc_id
from pipeline.index.mapping import ensure_index
from pipeline.index.sink import BulkSink
from pipeline.ingest.erasure import Erasure, erasures_topic
from pipeline.ingest.records import RawRecord
from pipeline.settings import Settings
from tests.worker.test_process import Enricher

pytestmark = [pytest.mark.integration]


@pytest.fixture
def isolated(
    settings: Settings, index_factory: Callable[[str], str], unique_name: Callable[[str], str]
) -> Iterator[Settings]:
    """Its own alias and topic prefix, with the erasure ledger topic."""
    mine = settings.model_copy(
        update={"index_alias": index_factory("er"), "topic_prefix": unique_name("er") + "."}
    )
    topic = erasures_topic(mine.topic_prefix)
    admin = KafkaAdminClient(**kafka_config(mine))
    try:
        admin.create_topics([NewTopic(topic, 1, 1, topic_configs=dict(ERASURES_CONFIGS))])
        yield mine
        admin.delete_topics([topic])
    finally:
        admin.close()


@dataclass(frozen=True)
class EraseNow:
    """A step that erases `key` as `pipeline erase` does: ledger first, then the purge."""

    settings: Settings
    purger: Purger
    key: str
    name: str = "erase-now"
    interruptible: bool = False

    def run(self, items: Sequence[Item]) -> None:
        append_erasures(self.settings, [Erasure.now(self.key, "dpo", "court order")])
        self.purger.purge_all([self.key])


def _record(offset: int, rid: str) -> RawRecord:
    body = {"id": rid, "received_at": "2026-11-20T10:00:00Z", "description": f"Van seen {rid}"}
    return RawRecord(
        topic="x.intake.public-reports",
        partition=0,
        offset=offset,
        key=rid.encode(),
        value=json.dumps(body).encode(),
        timestamp_ms=1_790_000_000_000,
    )


def test_an_erasure_made_mid_batch_wins(isolated: Settings, es: Elasticsearch) -> None:
    ensure_index(es, isolated)
    alias = isolated.index_alias
    deduplicator = Deduplicator(es, isolated)
    deduplicator.ensure()
    ledger = ErasureLedger(isolated)
    purger = Purger(es, isolated)
    path = steps(
        enricher=Enricher(),
        deduplicator=deduplicator,
        sink=BulkSink.from_settings(es, isolated),
        index=alias,
        erased=ledger,
        purger=purger,
    )
    try:
        BatchProcessor(path).process([_record(0, "keep"), _record(1, "gone")])
        # the redelivery's batch has read the ledger when the erasure comes; then it indexes
        names = [step.name for step in path]
        erase = EraseNow(isolated, purger, "public_report:gone")
        racing = [*path[: names.index("index")], erase, *path[names.index("index") :]]
        outcome = BatchProcessor(racing).process([_record(0, "keep"), _record(1, "gone")])
    finally:
        ledger.close()
    assert [r.offset for r in outcome.erased] == [1]
    assert [r.source_id for r in outcome.indexed + outcome.stale] == ["keep"]
    es.indices.refresh(index=alias)
    assert es.exists(index=alias, id=doc_id("public_report", "keep"))
    assert not es.exists(index=alias, id=doc_id("public_report", "gone"))
    state = state_index(alias)
    assert not es.exists(index=state, id=f"r:{report_key('public_report', 'gone')}")
    assert es.exists(index=state, id=f"r:{report_key('public_report', 'keep')}")
