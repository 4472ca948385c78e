"""A rebalance waits about one batch budget for a busy worker, not for its batch (issue 19)."""

from __future__ import annotations

import json
import random
import time
import uuid

import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from pipeline.clients import kafka_config
from tests.harness import Deployment, wait_for
from tests.worker.support import committed, dead_letters, produce, run_hits

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BUDGET_S = 5.0
SLOW_RECORDS = 60  # one batch: all on one partition, each ~0.6-1.5 s of enrichment
_STORY = (
    "a man was seen photographing the gates of the depot near the station in a grey van "
    "registration KX12 ABC and a woman with a holdall waited by the bridge in the evening"
)


def slow_records(run: str) -> list[tuple[bytes | None, bytes | None]]:
    """Valid reports of ~90,000 characters: each takes the worker about a second to enrich."""
    rng = random.Random(run)
    words = _STORY.split(" ")
    out: list[tuple[bytes | None, bytes | None]] = []
    for i in range(SLOW_RECORDS):
        sentences, size = [], 0
        while size < 90_000:
            sentence = " ".join(rng.choices(words, k=15)).capitalize() + ". "
            sentences.append(sentence)
            size += len(sentence)
        rid = f"{run}-{i}"
        body = {"id": rid, "received_at": "2026-11-21T09:00:00+00:00"}
        body["description"] = "".join(sentences)
        out.append((rid.encode(), json.dumps(body).encode()))
    return out


def members_with_partitions(deployment: Deployment) -> set[str]:
    """Member ids of the group that have partitions assigned now."""
    admin = KafkaAdminClient(**kafka_config(deployment.settings))
    try:
        group = deployment.settings.consumer_group
        info = admin.describe_groups([group]).get(group) or {}
    except KafkaError:  # no coordinator yet: nobody holds anything
        return set()
    finally:
        admin.close()
    return {
        member["member_id"]
        for member in info.get("members") or []
        if any(
            entry.get("partitions")
            for entry in (member.get("member_assignment") or {}).get("assigned_partitions") or []
        )
    }


def test_rebalance_waits_about_one_budget_for_a_busy_worker(
    deployment: Deployment, es: Elasticsearch
) -> None:
    deployment.settings = deployment.settings.model_copy(
        update={
            "batch_size": SLOW_RECORDS,
            "batch_timeout_s": 2.0,
            "batch_budget_s": BUDGET_S,
            "record_budget_s": 120.0,  # no record times out: every one must be indexed
        }
    )
    run = uuid.uuid4().hex[:10]
    topic = deployment.topic("public-reports")
    started = time.monotonic()
    first = deployment.start_worker()
    wait_for(lambda: bool(members_with_partitions(deployment)), 120, "worker 1", first.log)
    start_up = time.monotonic() - started  # includes the broker's initial rebalance delay
    first_members = members_with_partitions(deployment)

    # one batch over its budget: rerun record by record, it holds worker 1 for a minute or so
    produce(deployment, topic, slow_records(run), partition=0)
    wait_for(lambda: "retrying record by record" in first.log(), 120, "the rerun", first.log)

    before = committed(deployment, topic)  # a first small batch may be done, not this one
    joined = time.monotonic()
    second = deployment.start_worker()
    wait_for(
        lambda: bool(members_with_partitions(deployment) - first_members),
        300,
        "worker 2's partitions",
        second.log,
    )
    waited = time.monotonic() - joined
    in_flight = committed(deployment, topic) == before < SLOW_RECORDS
    print(f"start-up {start_up:.1f}s, worker 2 got partitions after {waited:.1f}s")
    # worker 2 was given partitions while worker 1's batch was still running, after about
    # its own start-up plus one budget: far from the batch's minute, let alone faust's 1,000 s
    assert in_flight, "worker 1's batch ended first: the rebalance did not have to wait"
    assert waited <= start_up + 3 * BUDGET_S, (waited, start_up, first.log()[-3000:])

    def all_committed() -> bool:
        return committed(deployment, topic) >= SLOW_RECORDS

    wait_for(all_committed, 240, "every record committed", lambda: second.log()[-3000:])
    hits = run_hits(es, deployment, run, ["source_id"])
    assert sorted(hit["_source"]["source_id"] for hit in hits) == sorted(
        f"{run}-{i}" for i in range(SLOW_RECORDS)
    )
    assert dead_letters(deployment) == []
