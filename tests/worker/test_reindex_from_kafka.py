"""`pipeline reindex --from kafka` rebuilds the index through the worker's own stages."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from elasticsearch import Elasticsearch

from tests.worker.support import Deployment, wait_for
from tests.worker.test_faults import TOPIC, assert_exactly_once, indexed, records

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_reindex_from_kafka_rebuilds_an_identical_index(
    deployment: Deployment, es: Elasticsearch
) -> None:
    run = uuid.uuid4().hex[:10]
    alias = deployment.settings.index_alias
    deployment.produce(deployment.topic(TOPIC), records(run, 120))
    worker = deployment.start_worker()
    wait_for(lambda: indexed(es, alias) >= 120, 240, "the live index", worker.log)
    worker.stop()
    before = es.search(index=alias, query={"term": {"source_id": f"{run}-7"}})["hits"]["hits"][0]

    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "reindex", "--from", "kafka"],
        env=deployment.env(port=0),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert list(es.indices.get_alias(name=alias)) == [f"{alias}-v2"]
    assert_exactly_once(es, alias, run, 120)
    after = es.search(index=alias, query={"term": {"source_id": f"{run}-7"}})["hits"]["hits"][0]
    assert after["_index"] == f"{alias}-v2"
    for field in ("text", "entities", "cluster_id", "duplicate", "region", "entity_mentions"):
        assert after["_source"].get(field) == before["_source"].get(field), field
