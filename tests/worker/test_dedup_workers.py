"""Two real worker processes given near duplicates at the same moment still agree on clusters."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient, KafkaProducer

from tests.worker.support import Deployment, wait_for
from tests.worker.test_stream_path import count

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WORDS = (  # noqa: SIM905
    "unattended holdall bench platform station man walked quickly taxi rank telegram channel "
    "posted message attack event route crosses admin handle lions north van parked gates "
    "photographing night drone flew school fence camera stewards march saturday"
).split()
GREETINGS = ("", "Hi, ", "Good evening. I want to report this. ")


def story(seed: str) -> str:
    """A 40-word text of its own: two seeds share (almost) no 3-word shingle."""
    return " ".join(random.Random(seed).choices(WORDS, k=40)) + "."


def assignments(deployment: Deployment) -> list[set[int]]:
    """The public-reports partitions each member of the group holds."""
    admin = KafkaAdminClient(bootstrap_servers=deployment.settings.kafka_servers)
    try:
        group = deployment.settings.consumer_group
        info = admin.describe_groups([group]).get(group) or {}
    finally:
        admin.close()
    if str(info.get("group_state")) != "Stable":
        return []
    topic = deployment.topic("public-reports")
    held: list[set[int]] = []
    for member in info.get("members") or []:
        assignment: Any = member.get("member_assignment") or {}
        entries = (
            assignment.get("assigned_partitions") or [] if isinstance(assignment, dict) else []
        )
        held.append({p for e in entries if e.get("topic") == topic for p in e["partitions"]})
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
    producer = KafkaProducer(bootstrap_servers=deployment.settings.kafka_servers, acks="all")
    topic = deployment.topic("public-reports")
    try:
        for record_id, text, partition in sends:
            body = {"id": record_id, "received_at": "2026-11-21T09:00:00Z", "description": text}
            producer.send(
                topic, key=record_id.encode(), value=json.dumps(body).encode(), partition=partition
            )
        producer.flush(timeout=30)
    finally:
        producer.close()

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
