"""`pipeline reindex --from kafka` rebuilds the index through the worker's own stages."""

from __future__ import annotations

import uuid

import pytest
from elasticsearch import Elasticsearch

from pipeline.index.mapping import MAPPING_VERSION
from tests.harness import Deployment, wait_for
from tests.worker.support import produce, reindex_from_kafka
from tests.worker.test_faults import TOPIC, assert_exactly_once, indexed, records

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_reindex_from_kafka_rebuilds_an_identical_index(
    deployment: Deployment, es: Elasticsearch
) -> None:
    run = uuid.uuid4().hex[:10]
    alias = deployment.settings.index_alias
    produce(deployment, deployment.topic(TOPIC), records(run, 120))
    worker = deployment.start_worker()
    wait_for(lambda: indexed(es, alias) >= 120, 240, "the live index", worker.log)
    worker.stop()
    before = es.search(index=alias, query={"term": {"source_id": f"{run}-7"}})["hits"]["hits"][0]

    result = reindex_from_kafka(deployment)
    assert result.returncode == 0, result.stderr[-3000:]
    target = f"{alias}-v{MAPPING_VERSION + 1}"  # the next generation after the live one
    assert list(es.indices.get_alias(name=alias)) == [target]
    assert_exactly_once(es, alias, run, 120)
    after = es.search(index=alias, query={"term": {"source_id": f"{run}-7"}})["hits"]["hits"][0]
    assert after["_index"] == target
    for field in ("text", "entities", "cluster_id", "duplicate", "region", "entity_mentions"):
        assert after["_source"].get(field) == before["_source"].get(field), field
