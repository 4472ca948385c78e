"""Watchlists and alerts on the secure stack, each process as its identity.

The API logs in as `ct-api-restricted` (and `ct-api` for analysts' searches), the worker as
`ct-worker`: entries are the API's to write and the worker's to read, alerts the worker's to
write and the API's to read and acknowledge, and `ct-api` (analysts' searches) reads neither.
The stack is the session's `secure_stack` (tests/stack/conftest.py), under an alias of this
module's own and the topic prefix `stack up` granted ACLs for. It must still have its trial
licence: test_stack_security ends it, after which `ct-api` is disabled outright and its 403s
below would prove nothing (this file's name sorts before that one).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import elasticsearch
import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient, KafkaConsumer
from pydantic import SecretStr

from pipeline import clients
from pipeline.api.app import create_app
from pipeline.api.audit import AuditTrail, audit_index
from pipeline.clients import kafka_config, new_kafka_client
from pipeline.enrich.mentions import EntityType, Mention
from pipeline.enrich.watch.alerts import AlertWriter, Sighting, alerts_index, ensure_alerts_index
from pipeline.enrich.watch.entries import WatchEntry
from pipeline.enrich.watch.matcher import Match, alert_id
from pipeline.enrich.watch.publish import alerts_topic
from pipeline.enrich.watch.store import WatchSync, put_entry, watch_index
from pipeline.errors import PipelineError
from pipeline.settings import Settings
from tests.api.api_support import KEYS_JSON, Api

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PHONE = Mention(EntityType.PHONE, "07700 900123", "+447700900123", 0, 12)


@pytest.fixture(scope="module")
def stack(secure_stack: Settings) -> Settings:
    alias = f"sec-{uuid.uuid4().hex[:8]}"
    return secure_stack.model_copy(update={"index_alias": alias, "api_keys": SecretStr(KEYS_JSON)})


@pytest.fixture
def api(stack: Settings, as_identity: Callable[[str], Elasticsearch]) -> Iterator[Api]:
    """The API as `pipeline api` runs it on the local stack: as `ct-api-restricted`."""
    AuditTrail(as_identity("admin"), audit_index(stack)).ensure()  # as `index ensure` does
    admin = new_kafka_client(KafkaAdminClient, **kafka_config(stack, identity="admin"))
    try:
        topic = alerts_topic(stack.topic_prefix)
        if topic not in admin.list_topics():
            admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1}})
    finally:
        admin.close()
    before = clients.current_identity()
    clients.use_identity("api-restricted")
    try:
        yield Api(create_app(stack))
    finally:
        clients.use_identity(before)


def _status(call: Callable[..., Any], **arguments: Any) -> int:
    try:
        return int(call(**arguments).meta.status)
    except elasticsearch.ApiError as exc:
        return int(exc.meta.status)


def test_each_identity_does_its_part_of_watching_and_nothing_more(
    stack: Settings, api: Api, as_identity: Callable[[str], Elasticsearch]
) -> None:
    alias = stack.index_alias
    licence = as_identity("admin").license.get()["license"]["type"]
    assert licence == "trial", "run before test_stack_security's licence test (see above)"
    created = api.post("/api/watch", json={"target": "phone:07700 900123", "justification": "Op"})
    assert created.status_code == 201, created.text  # ct-api-restricted made the index too
    entry_id = created.json()["id"]

    worker = as_identity("worker")
    sync = WatchSync(worker, alias)
    sync.refresh(datetime.now(UTC))
    entry = sync.watchlist.get(entry_id)
    assert isinstance(entry, WatchEntry)
    forged = entry.model_copy(update={"id": "forged", "owner": "mallory"})
    with pytest.raises(PipelineError):
        put_entry(worker, alias, forged)  # a worker reads entries, never writes one
    ensure_alerts_index(worker, alias)
    AlertWriter(worker, alias).write(
        [Sighting(Match(entry, PHONE), "r1", "c1", "public_report", datetime.now(UTC))]
    )
    as_identity("admin").indices.refresh(index=alerts_index(alias))
    alert = alert_id(entry_id, "c1")

    listed = api.get("/api/alerts")
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()["alerts"]] == [alert]
    acked = api.post(f"/api/alerts/{alert}/ack", json={"outcome": "relevant"})
    assert acked.status_code == 200, acked.text  # stored, and published as ct-api-restricted
    consumer = KafkaConsumer(
        alerts_topic(stack.topic_prefix),
        **kafka_config(stack, identity="admin"),
        group_id=None,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )
    try:
        updates = [json.loads(m.value) for m in consumer]
    finally:
        consumer.close()
    assert [(u["kind"], u["alert_id"]) for u in updates] == [("update", alert)]
    assert api.request("DELETE", f"/api/watch/{entry_id}").status_code == 204

    general = as_identity("api-restricted")
    for index, doc_id in ((watch_index(alias), entry_id), (alerts_index(alias), alert)):
        assert _status(general.delete, index=index, id=doc_id) == 403  # marked, never deleted
        assert _status(general.indices.delete, index=index) == 403
    for identity in ("api", "operator"):  # analysts' searches and operators read neither
        for index in (watch_index(alias), alerts_index(alias)):
            assert _status(as_identity(identity).search, index=index) == 403, identity
