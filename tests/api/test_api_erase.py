"""`POST /api/erasures` in process against the real index and broker: the restricted role
erases with a justification, audited without content; an unknown report changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from api_support import SAMPLES, Api, Corpus, audit_entries
from elasticsearch import Elasticsearch
from fastapi import FastAPI
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from pipeline.admin.topics import ERASURES_CONFIGS
from pipeline.api.app import create_app
from pipeline.clients import kafka_config
from pipeline.enrich.erasure import ErasureLedger
from pipeline.ingest.erasure import erasure_key, erasures_topic
from pipeline.settings import Settings

pytestmark = [pytest.mark.integration]


@pytest.fixture
def ledger_settings(corpus: Corpus, unique_name: Callable[[str], str]) -> Iterator[Settings]:
    """The corpus' settings with a topic prefix of their own and its erasure ledger."""
    settings = corpus.settings.model_copy(update={"topic_prefix": unique_name("er") + "."})
    topic = erasures_topic(settings.topic_prefix)
    admin = KafkaAdminClient(**kafka_config(settings))
    try:
        admin.create_topics([NewTopic(topic, 1, 1, topic_configs=dict(ERASURES_CONFIGS))])
        yield settings
        admin.delete_topics([topic])
    finally:
        admin.close()


@pytest.fixture
def eraser(es: Elasticsearch, ledger_settings: Settings) -> Api:
    app: FastAPI = create_app(ledger_settings, es)
    return Api(app)


def _ledger(settings: Settings) -> set[str]:
    ledger = ErasureLedger(settings)
    try:
        ledger.catch_up()
    finally:
        ledger.close()
    return ledger.keys


def test_the_restricted_role_erases_with_a_justification(
    eraser: Api, es: Elasticsearch, ledger_settings: Settings
) -> None:
    sample = SAMPLES[0]
    key = erasure_key(sample.source.value, sample.source_id)
    body = {"reports": [key]}
    assert eraser.post("/api/erasures", json=body, role="analyst").status_code == 403
    assert eraser.post("/api/erasures", json=body, role="restricted", why=None).status_code == 400
    unknown = eraser.post(
        "/api/erasures", json={"reports": [key, "public_report:nope"]}, role="restricted"
    )
    assert unknown.status_code == 404
    assert "public_report:nope" in unknown.json()["detail"]
    bad = eraser.post("/api/erasures", json={"reports": ["nope"]}, role="restricted")
    assert bad.status_code == 400
    assert _ledger(ledger_settings) == set()

    done = eraser.post("/api/erasures", json=body, role="restricted", why="court order 9")
    assert done.status_code == 202, done.text
    assert done.json()["erased"] == [key]
    assert _ledger(ledger_settings) == {key}
    [entry] = [e for e in audit_entries(es, ledger_settings) if e.action == "erase"]
    assert (entry.user, entry.role, entry.ids) == ("rita", "restricted", [key])
    assert entry.justification == "court order 9"
    assert sample.text not in entry.model_dump_json()  # the audit never holds the content
