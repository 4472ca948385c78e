"""Security inside a private local stack: each identity can do what it needs and nothing more.

One private stack for the module (a start costs about a minute); the session's stack is never
touched. The licence test runs last: it drops the node to a basic licence for good.
"""

from __future__ import annotations

import stat
import uuid
from collections.abc import Callable
from typing import Any

import elasticsearch
import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.errors import KafkaError, TopicAuthorizationFailedError

from pipeline import credentials
from pipeline.admin.topics import ensure_topics
from pipeline.api.audit import AUDIT_MAPPING
from pipeline.clients import elasticsearch_client, kafka_config, new_kafka_client
from pipeline.dev.stack import elasticsearch as es_stack
from pipeline.dev.stack import kafka
from pipeline.ingest.sources import dlq_topic, intake_topics
from pipeline.settings import Settings
from tests.harness import produce_as

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(secure_stack: Settings) -> Settings:
    return secure_stack.model_copy(
        update={"topic_prefix": "sec.", "consumer_group": "sec-group", "index_alias": "sec"}
    )


@pytest.fixture
def audit(as_identity: Callable[[str], Elasticsearch]) -> str:
    """A fresh audit index created as `index ensure` creates it: by the admin."""
    index = f"sec-{uuid.uuid4().hex[:8]}-audit"
    as_identity("admin").indices.create(index=index, mappings=AUDIT_MAPPING)
    return index


def _status(call: Callable[..., Any], **arguments: Any) -> int:
    """The HTTP status of `call(**arguments)`, an error's included."""
    try:
        return int(call(**arguments).meta.status)
    except elasticsearch.ApiError as exc:
        return int(exc.meta.status)


def test_secrets_are_readable_by_their_owner_only(stack: Settings) -> None:
    es_config = es_stack.ElasticsearchPaths.of(stack).config
    for path in (
        credentials.credentials_path(stack.state_dir),
        kafka.KafkaPaths.of(stack).config,  # holds the PLAIN passwords
        es_config / "users",
        es_config / "users_roles",
    ):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    # the node's user owns its files: as root it is not us
    assert (es_config / "users").stat().st_uid == es_config.stat().st_uid


def test_an_unauthenticated_or_wrong_password_request_is_401(stack: Settings) -> None:
    for options in ({}, {"basic_auth": ("ct-admin", "not-the-password")}):
        client = Elasticsearch(stack.es_url, max_retries=0, **options)
        try:
            with pytest.raises(elasticsearch.AuthenticationException) as caught:
                client.search(index="*")
            assert caught.value.meta.status == 401
        finally:
            client.close()


def test_the_api_can_only_append_to_the_audit_index(
    as_identity: Callable[[str], Elasticsearch], audit: str
) -> None:
    admin = as_identity("admin")
    for identity in ("api", "api-restricted"):
        api = as_identity(identity)
        created = api.index(index=audit, document={"user": "alice"}, op_type="create")
        assert created.meta.status == 201
        doc_id = created["_id"]
        # overwrite, update, delete a record; delete or close the index; make another index
        assert _status(api.index, index=audit, id=doc_id, document={"user": "x"}) == 403
        assert _status(api.update, index=audit, id=doc_id, doc={"user": "x"}) == 403
        assert _status(api.delete, index=audit, id=doc_id) == 403
        assert _status(api.indices.delete, index=audit) == 403
        assert _status(api.indices.close, index=audit) == 403
        assert _status(api.indices.create, index=f"{audit}-x") == 403
        assert _status(api.indices.create, index="sec-new") == 403
        # only the API's general identity reads it back (for auditors, as do operators)
        assert _status(api.search, index=audit) == (200 if identity == "api-restricted" else 403)
        assert admin.get(index=audit, id=doc_id)["_source"] == {"user": "alice"}


def test_a_deleted_audit_index_is_not_recreated_by_the_api(
    as_identity: Callable[[str], Elasticsearch], audit: str
) -> None:
    as_identity("admin").indices.delete(index=audit)
    api = as_identity("api")
    assert _status(api.index, index=audit, document={"user": "a"}, op_type="create") == 403
    assert _status(api.indices.create, index=audit, mappings=AUDIT_MAPPING) == 403
    assert not as_identity("admin").indices.exists(index=audit)


def test_the_worker_cannot_touch_the_audit_index_and_operators_only_read_it(
    as_identity: Callable[[str], Elasticsearch], audit: str
) -> None:
    as_identity("admin").index(index=audit, document={"user": "bob"}, refresh=True)
    worker = as_identity("worker")
    assert _status(worker.search, index=audit) == 403
    assert _status(worker.index, index=audit, document={"u": 1}, op_type="create") == 403
    assert _status(worker.indices.delete, index=audit) == 403
    operator = as_identity("operator")
    assert operator.search(index=audit)["hits"]["total"]["value"] == 1
    assert _status(operator.index, index=audit, document={"u": 1}, op_type="create") == 403
    # the worker does write report data and dedup state
    assert worker.index(index="sec-v1", document={"text": "x"}).meta.status == 201
    assert worker.index(index="sec-dedup", id="k", document={"a": 1}).meta.status == 201


@pytest.fixture(scope="module")
def reports(stack: Settings) -> str:
    admin = elasticsearch_client(stack, identity="admin")
    try:
        admin.indices.create(index="sec-reports-v1", aliases={"sec-reports": {}})
        admin.index(
            index="sec-reports",
            id="1",
            document={
                "text": "a van by the bridge",
                "restricted": {"caller": {"name": "Jane Doe"}, "text": "Jane Doe called"},
            },
            refresh=True,
        )
    finally:
        admin.close()
    return "sec-reports"


def _sources(es: Elasticsearch, index: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    return [hit["_source"] for hit in es.search(index=index, query=query)["hits"]["hits"]]


def test_analyst_requests_never_read_restricted_fields(
    as_identity: Callable[[str], Elasticsearch], reports: str
) -> None:
    analyst, restricted = as_identity("api"), as_identity("api-restricted")
    everything = {"match_all": {}}
    assert _sources(analyst, reports, everything) == [{"text": "a van by the bridge"}]
    assert _sources(restricted, reports, everything)[0]["restricted"]["caller"]["name"]
    # hidden from queries too: a search on the field cannot tell the value exists
    by_name = {"match": {"restricted.caller.name": "jane"}}
    assert _sources(analyst, reports, by_name) == []
    assert len(_sources(restricted, reports, by_name)) == 1
    got = analyst.get(index="sec-reports-v1", id="1")["_source"]
    assert "restricted" not in got


@pytest.fixture
def topics(stack: Settings) -> list[str]:
    ensure_topics(stack, partitions=1, dlq_partitions=1)  # grants the deployment's ACLs too
    return [*intake_topics(stack.topic_prefix), dlq_topic(stack.topic_prefix)]


def test_kafka_identities_have_their_acls_and_no_more(stack: Settings, topics: list[str]) -> None:
    intake, dlq = topics[0], topics[-1]
    produce_as(stack, "operator", intake)  # operators publish and replay
    produce_as(stack, "worker", dlq)  # workers write dead letters
    for identity, topic in (("api", intake), ("api", dlq), ("worker", intake)):
        with pytest.raises(TopicAuthorizationFailedError):
            produce_as(stack, identity, topic)
    consumer = new_kafka_client(
        KafkaConsumer,
        **kafka_config(stack, identity="worker"),
        group_id=stack.consumer_group,
        auto_offset_reset="earliest",
        consumer_timeout_ms=15_000,
    )
    try:
        consumer.subscribe([intake])
        assert [m.value for m in consumer] == [b"{}"]
    finally:
        consumer.close()


@pytest.mark.parametrize("identity", ["worker", "api", "operator"])
def test_only_the_admin_deletes_topics(stack: Settings, topics: list[str], identity: str) -> None:
    admin = new_kafka_client(KafkaAdminClient, **kafka_config(stack, identity=identity))
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            admin.delete_topics([topics[-1]])
    finally:
        admin.close()
    admin = new_kafka_client(KafkaAdminClient, **kafka_config(stack, identity="admin"))
    try:
        assert topics[-1] in admin.list_topics()
    finally:
        admin.close()


@pytest.mark.parametrize(
    "login",
    [
        {},
        {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": "ct-worker",
            "sasl_plain_password": "guessed",
        },
        {  # PLAIN is there for the admin alone
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "PLAIN",
            "sasl_plain_username": "ct-worker",
            "sasl_plain_password": "guessed",
        },
    ],
    ids=["anonymous", "wrong-scram-password", "plain-non-admin"],
)
def test_kafka_refuses_clients_without_valid_credentials(
    stack: Settings, login: dict[str, str]
) -> None:
    with pytest.raises(KafkaError):
        admin = new_kafka_client(
            KafkaAdminClient,
            bootstrap_servers=stack.kafka_servers,
            request_timeout_ms=5000,
            bootstrap_timeout_ms=5000,
            **login,
        )
        admin.close()


def test_without_field_level_security_analyst_requests_fail_closed(
    stack: Settings, as_identity: Callable[[str], Elasticsearch], reports: str
) -> None:
    """What happens when the trial ends: the analyst role is disabled, never widened.

    Runs last in this module: a node cannot go back to a trial licence.
    """
    admin = as_identity("admin")
    assert admin.license.get()["license"]["type"] == "trial"
    admin.license.post_start_basic(acknowledge=True)
    assert admin.license.get()["license"]["type"] == "basic"
    analyst = as_identity("api")
    assert _status(analyst.search, index=reports) == 403
    assert _status(analyst.get, index="sec-reports-v1", id="1") == 403
    assert len(_sources(as_identity("api-restricted"), reports, {"match_all": {}})) == 1
