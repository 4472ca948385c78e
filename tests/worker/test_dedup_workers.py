"""Two real worker processes given near duplicates at the same moment still agree on clusters."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from pipeline.clients import kafka_config
from pipeline.ops.lag import _assigned_partitions
from tests.enrich.dedup.test_dedup_state import story
from tests.harness import Deployment, wait_for
from tests.worker.support import produce
from tests.worker.test_stream_path import count

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WHEN = "2026-11-21T09:00:00Z"
GREETINGS = ("", "Hi, ", "Good evening. I want to report this. ")


def assignments(deployment: Deployment) -> list[set[int]]:
    """The public-reports partitions each member of the group holds."""
    admin = KafkaAdminClient(**kafka_config(deployment.settings))
    try:
        group = deployment.settings.consumer_group
        info = admin.describe_groups([group]).get(group) or {}
    except KafkaError:  # no coordinator yet (a fresh broker): the group is not stable yet
        return []
    finally:
        admin.close()
    if str(info.get("group_state")) != "Stable":
        return []
    topic = deployment.topic("public-reports")
    held: list[set[int]] = []
    for member in info.get("members") or []:
        pairs = _assigned_partitions({"members": [member]})
        held.append({p for t, p in pairs if t == topic})
    return held


def test_near_duplicates_on_partitions_of_two_workers_share_one_cluster(
    deployment: Deployment, es: Elasticsearch
) -> None:
    run = uuid.uuid4().hex[:8]
    workers = [deployment.start_worker(), deployment.start_worker()]
    logs = lambda: "\n".join(w.log()[-3000:] for w in workers)  # noqa: E731

    def both_hold_partitions() -> bool:
        held = assignments(deployment)
        return len(held) == 2 and all(held)

    wait_for(both_hold_partitions, 180, "two members each holding public-reports", logs)

    stories = [story(f"{run}-{s}") for s in range(4)]
    sends = [
        (f"{run}-s{s}-p{p}", GREETINGS[p] + text, p)
        for s, text in enumerate(stories)
        for p in range(3)  # one wording per partition, so both workers get every story
    ]
    topic = deployment.topic("public-reports")
    for partition in range(3):
        records = [
            (
                rid.encode(),
                json.dumps({"id": rid, "received_at": WHEN, "description": text}).encode(),
            )
            for rid, text, p in sends
            if p == partition
        ]
        produce(deployment, topic, records, partition=partition)

    alias = deployment.settings.index_alias
    wait_for(lambda: count(es, alias) >= len(sends), 180, "every report indexed", logs)
    assert count(es, alias) == len(sends)
    hits = es.search(index=alias, size=100, query={"prefix": {"source_id": run}})["hits"]["hits"]
    by_story: dict[str, list[dict[str, Any]]] = {}
    for hit in hits:
        by_story.setdefault(hit["_source"]["source_id"].split("-p")[0], []).append(hit["_source"])
    assert len(by_story) == len(stories)
    for members in by_story.values():
        assert len({m["cluster_id"] for m in members}) == 1, members
        assert sorted(m["duplicate"] for m in members) == [False, True, True]
    assert len({m[0]["cluster_id"] for m in by_story.values()}) == len(stories)

    collapsed = es.search(
        index=alias,
        size=100,
        query={"prefix": {"source_id": run}},
        collapse={"field": "cluster_id", "inner_hits": {"name": "similar", "size": 0}},
    )["hits"]["hits"]
    assert len(collapsed) == len(stories)  # one hit per cluster, carrying the cluster's size
    assert [hit["inner_hits"]["similar"]["hits"]["total"]["value"] for hit in collapsed] == [3] * 4
    assert all(w.alive() for w in workers), logs()
