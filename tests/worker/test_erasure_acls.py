"""Who may write the erasure ledger, on the real broker with its ACLs: the restricted API
identity and operators add erasures; the worker and the analysts' identity cannot."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from kafka import KafkaAdminClient
from kafka.errors import TopicAuthorizationFailedError

from pipeline import credentials
from pipeline.admin.topics import ensure_topics
from pipeline.clients import kafka_config, with_local_credentials
from pipeline.enrich.erasure import ErasureLedger
from pipeline.ingest.erasure import erasures_topic
from pipeline.settings import Settings
from tests.harness import produce_as

pytestmark = [pytest.mark.integration]


@pytest.fixture
def granted(settings: Settings, unique_name: Callable[[str], str]) -> Iterator[Settings]:
    if credentials.load(settings.state_dir) is None:
        pytest.skip("the local stack runs without security: no ACLs to check")
    mine = settings.model_copy(update={"topic_prefix": unique_name("era") + "."})
    ensure_topics(mine, partitions=1, dlq_partitions=1)  # grants the deployment's ACLs too
    yield mine
    admin = KafkaAdminClient(**kafka_config(mine))
    try:
        admin.delete_topics([t for t in admin.list_topics() if t.startswith(mine.topic_prefix)])
    finally:
        admin.close()


def test_only_the_restricted_api_and_operators_write_the_ledger(granted: Settings) -> None:
    topic = erasures_topic(granted.topic_prefix)
    produce_as(granted, "api-restricted", topic)
    produce_as(granted, "operator", topic)
    for identity in ("worker", "api"):
        with pytest.raises(TopicAuthorizationFailedError):
            produce_as(granted, identity, topic)
    # the worker reads it whole (the two records above, both keyed `k`)
    ledger = ErasureLedger(with_local_credentials(granted, "worker"))
    try:
        ledger.catch_up()
    finally:
        ledger.close()
    assert ledger.keys == {"k"}
