"""Erasure on the real stack: an erased report is gone from the index, dedup state, alerts and
the dead-letter tools, and no redelivery, replay from offset 0, dead-letter replay or reindex
from Kafka brings it back; a worker started after the erasure honours it too."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import uuid

import httpx
import pytest
from elasticsearch import Elasticsearch

from pipeline.admin.dlq_store import read_dead_letters
from pipeline.admin.topics import ensure_topics
from pipeline.enrich.dedup.keys import report_key
from pipeline.enrich.dedup.state import state_index
from pipeline.enrich.erasure import ErasureLedger
from pipeline.enrich.watch.alerts import alerts_index, ensure_alerts_index
from pipeline.index.document import doc_id
from pipeline.index.mapping import MAPPING_VERSION
from tests.harness import Deployment, WorkerProcess, stack_env, wait_for
from tests.worker.support import produce, records_counted, reindex_from_kafka
from tests.worker.test_faults import indexed

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOPIC = "public-reports"
STORY = (
    "A man was photographing the rear gates of the depot on Canal Street for an hour, "
    "then left in a grey van heading north towards the ring road."
)


def _body(rid: str, text: str) -> bytes:
    return json.dumps(
        {"id": rid, "received_at": "2026-11-21T09:00:00+00:00", "description": text}
    ).encode()


def _erase(
    deployment: Deployment, *reports: str, more: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """`pipeline erase` as the local stack's administrator would run it."""
    env = {**deployment.env(port=0), **stack_env(deployment.settings, "admin")}
    args = [arg for report in reports for arg in ("--report", report)] + list(more)
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "erase", *args, "--justification", "court order 7"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _doc(es: Elasticsearch, alias: str, rid: str) -> dict[str, object] | None:
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, query={"term": {"source_id": rid}})["hits"]["hits"]
    return dict(hits[0]["_source"]) if hits else None


def _counted(worker: WorkerProcess, outcome: str) -> float:
    """`records_counted`, 0 while the worker is still starting (no HTTP server yet)."""
    try:
        return records_counted(worker, outcome)
    except httpx.HTTPError:
        return 0.0


def _ledger(deployment: Deployment) -> set[str]:
    ledger = ErasureLedger(deployment.settings)
    try:
        ledger.catch_up()
    finally:
        ledger.close()
    return ledger.keys


def test_an_erased_report_never_comes_back(deployment: Deployment, es: Elasticsearch) -> None:
    ensure_topics(deployment.settings)  # the erasure ledger beside the deployment's topics
    alias, run = deployment.alias, uuid.uuid4().hex[:8]
    opener, twin, other = f"{run}-a", f"{run}-b", f"{run}-c"
    topic = deployment.topic(TOPIC)
    # one partition, so the opener is read (and clustered) first
    produce(deployment, topic, [(opener.encode(), _body(opener, STORY))], partition=0)
    produce(deployment, topic, [(twin.encode(), _body(twin, STORY))], partition=0)
    produce(
        deployment,
        topic,
        [
            (other.encode(), _body(other, "A drone was flown over the stadium at night.")),
            (opener.encode(), b"{not json"),  # a broken resend: a dead letter of the opener
        ],
        partition=0,
    )
    worker = deployment.start_worker()
    wait_for(lambda: indexed(es, alias) == 3, 240, "three reports indexed", worker.log)
    wait_for(
        lambda: len(list(read_dead_letters(deployment.settings, deployment.dlq))) == 1,
        60,
        "the dead letter",
    )
    letters = list(read_dead_letters(deployment.settings, deployment.dlq))
    first, second = _doc(es, alias, opener), _doc(es, alias, twin)
    assert first is not None and second is not None
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    cluster = first["cluster_id"]
    assert second["cluster_id"] == cluster

    # an alert first raised by the opener, with a hit of each report
    ensure_alerts_index(es, alias)
    alerts = alerts_index(alias)
    common = {"entry_id": "e1", "owner": "ana", "priority": "high", "cluster_id": cluster}
    common |= {"source": "public_report", "restricted": False}
    for name, rid, seen in (("alert", opener, "09:00"), ("hit", opener, "09:00")):
        did = doc_id("public_report", rid)
        body = {"kind": name, "alert_id": "al1", "report_id": did, **common}
        es.index(
            index=alerts, id=f"{name}-{rid}", document={**body, "seen_at": f"2026-11-21T{seen}:00Z"}
        )
    twin_hit = {"kind": "hit", "alert_id": "al1", "report_id": doc_id("public_report", twin)}
    es.index(
        index=alerts,
        id=f"hit-{twin}",
        document={**twin_hit, **common, "seen_at": "2026-11-21T09:05:00Z"},
        refresh=True,
    )

    # an unknown report is a clear error and changes nothing
    refused = _erase(deployment, f"public_report:{opener}", "public_report:no-such-report")
    assert refused.returncode != 0
    assert "no such report: public_report:no-such-report" in refused.stderr
    assert "nothing was erased" in refused.stderr
    assert _ledger(deployment) == set()
    assert _doc(es, alias, opener) is not None

    # a selector, tried first: it finds the report and changes nothing
    dry = _erase(deployment, more=("--where", f"source_id={opener}", "--dry-run"))
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert dry.stdout.strip() == f"would erase public_report:{opener}"
    assert _ledger(deployment) == set()
    nothing = _erase(deployment, more=("--where", "source_id=no-such-id"))
    assert nothing.returncode != 0 and "nothing was erased" in nothing.stderr

    done = _erase(deployment, f"public_report:{opener}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"erased public_report:{opener}" in done.stdout
    assert _ledger(deployment) == {f"public_report:{opener}"}
    assert letters and not list(read_dead_letters(deployment.settings, deployment.dlq))

    def gone() -> None:
        assert _doc(es, alias, opener) is None
        state = state_index(alias)
        assert not es.exists(index=state, id=f"r:{report_key('public_report', opener)}")
        twin_doc = _doc(es, alias, twin)
        assert twin_doc is not None
        # the cluster stays whole for who remains: same id, and the twin is its first now
        assert (twin_doc["cluster_id"], twin_doc["duplicate"]) == (cluster, False)
        es.indices.refresh(index=alerts)
        found = es.search(index=alerts, query={"match_all": {}}, size=10)["hits"]["hits"]
        assert {h["_id"] for h in found} == {"alert-" + opener, f"hit-{twin}"}
        alert = next(h["_source"] for h in found if h["_source"]["kind"] == "alert")
        assert alert["report_id"] == doc_id("public_report", twin)

    gone()
    # a redelivery (a resend of the same record) while the worker runs is dropped
    produce(deployment, topic, [(opener.encode(), _body(opener, STORY))])
    wait_for(lambda: _counted(worker, "erased") >= 1, 120, "the resend dropped", worker.log)
    worker.stop()
    gone()

    # a second worker, started after the erasure, in a new group: replays the topic from 0
    fresh = dataclasses.replace(
        deployment,
        settings=deployment.settings.model_copy(
            update={"consumer_group": f"{deployment.name}-group-replay"}
        ),
        workers=[],
    )
    late = fresh.start_worker()
    try:
        wait_for(lambda: _counted(late, "erased") >= 2, 240, "the replay", late.log)
        assert records_counted(late, "dead_lettered") == 0  # the broken copy is erased too
    finally:
        late.stop()
    gone()

    result = reindex_from_kafka(deployment)
    assert result.returncode == 0, result.stderr[-3000:]
    assert list(es.indices.get_alias(name=alias)) == [f"{alias}-v{MAPPING_VERSION + 1}"]
    assert indexed(es, alias) == 2
    gone()
