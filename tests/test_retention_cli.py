"""`pipeline retention due` and `pipeline retention review` against the real node and broker:
due lists exactly the due reports, retain moves the date (audited, and kept through a rebuild
of the document), delete erases, a relevant alert extends, an unknown report changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from pipeline.admin.topics import ERASURES_CONFIGS
from pipeline.api.audit import AuditTrail, audit_index
from pipeline.api.models import AuditEntry
from pipeline.cli.main import cli
from pipeline.clients import kafka_config
from pipeline.enrich.erasure import ErasureLedger
from pipeline.enrich.mentions import Enrichment
from pipeline.enrich.watch.alerts import alerts_index, ensure_alerts_index
from pipeline.index.document import build_document, doc_id
from pipeline.index.mapping import ensure_index
from pipeline.index.retention import add_years
from pipeline.ingest.erasure import erasures_topic
from pipeline.ingest.report import Origin, Report
from pipeline.ingest.sources import Source
from pipeline.settings import Settings, get_settings
from tests.harness import stack_env

pytestmark = pytest.mark.integration


@dataclass
class Deployment:
    """A unique alias (its audit and alerts indices beside it) and erasure ledger."""

    settings: Settings
    es: Elasticsearch

    def put(self, source: Source, rid: str, received: str, *, dated: bool = True) -> str:
        """Index one report as the worker would; `dated=False`: as written before review
        dates existed. Returns its `source:id`."""
        report = Report(
            source=source,
            source_id=rid,
            received_at=datetime.fromisoformat(received),
            text=f"Report {rid}: a van by the gates.",
            origin=Origin(topic="t", partition=0, offset=0),
        )
        document = build_document(report, Enrichment(), None, ingested_at=datetime.now(UTC))
        if not dated:
            del document["review_date"]
        self.es.index(
            index=self.settings.index_alias,
            id=doc_id(source.value, rid),
            document=document,
            refresh=True,
        )
        return f"{source.value}:{rid}"

    def doc(self, key: str) -> dict[str, Any] | None:
        source, _, rid = key.partition(":")
        found = self.es.options(ignore_status=404).get(
            index=self.settings.index_alias, id=doc_id(source, rid)
        )
        return dict(found["_source"]) if found.get("found") else None

    def audit(self, action: str) -> list[AuditEntry]:
        index = audit_index(self.settings)
        if self.es.indices.exists(index=index):
            self.es.indices.refresh(index=index)
        return AuditTrail(self.es, index).list(action=action, limit=1000)


@pytest.fixture
def deployment(
    settings: Settings,
    es: Elasticsearch,
    index_factory: Callable[[str], str],
    unique_name: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Deployment]:
    alias = index_factory("retention")
    monkeypatch.setenv("PIPELINE_INDEX_ALIAS", alias)
    monkeypatch.setenv("PIPELINE_TOPIC_PREFIX", unique_name("rt") + ".")
    for variable, value in stack_env(settings).items():
        monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    ours = get_settings()
    ensure_index(es, ours)
    topic = erasures_topic(ours.topic_prefix)
    admin = KafkaAdminClient(**kafka_config(ours))
    try:
        admin.create_topics([NewTopic(topic, 1, 1, topic_configs=dict(ERASURES_CONFIGS))])
        yield Deployment(ours, es)
        admin.delete_topics([topic])
    finally:
        admin.close()
        get_settings.cache_clear()


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["retention", *args])


def _due(*args: str) -> list[dict[str, Any]]:
    result = _run("due", "--json", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def _keys(rows: list[dict[str, Any]]) -> list[str]:
    return [row["report"] for row in rows]


def test_due_lists_exactly_the_due_reports_oldest_first(deployment: Deployment) -> None:
    recent = deployment.put(Source.HOTLINE_CALL, "hc-1", "2026-11-01T10:00:00+00:00")
    older = deployment.put(Source.PUBLIC_REPORT, "pr-1", "2019-01-10T10:00:00+00:00")
    online = deployment.put(Source.ONLINE_REFERRAL, "or-1", "2020-06-01T10:00:00+00:00")
    # written before review dates existed: its date comes from @timestamp
    legacy = deployment.put(
        Source.RADICALISATION_REFERRAL, "rr-1", "2015-04-02T10:00:00+00:00", dated=False
    )
    # each document carries its source's date: six years after receipt by default
    assert deployment.doc(recent)["review_date"] == "2032-11-01"  # type: ignore[index]
    assert deployment.doc(older)["review_date"] == "2025-01-10"  # type: ignore[index]
    assert "review_date" not in deployment.doc(legacy)  # type: ignore[operator]

    rows = _due()
    assert _keys(rows) == [legacy, older, online]
    assert rows[0]["due"] == "2021-04-02" and rows[0]["extended_by"] == []
    assert _keys(_due("--source", "public_report")) == [older]
    assert _keys(_due("--before", "2025-01-10")) == [legacy]  # before: the day itself is not
    assert _keys(_due("--before", "2025-01-11")) == [legacy, older]

    text = _run("due")
    assert text.exit_code == 0, text.output
    assert f"2025-01-10  {older}  received 2019-01-10T10:00:00+00:00" in text.output
    assert "3 report(s) due for review before" in text.output
    # the listing is audited with what it showed
    [latest, *_] = deployment.audit("review_due")
    assert latest.ids == [legacy, older, online]


def test_retain_moves_the_date_is_audited_and_survives_a_rebuild(
    deployment: Deployment,
) -> None:
    key = deployment.put(Source.PUBLIC_REPORT, "pr-2", "2018-02-03T10:00:00+00:00")
    assert _keys(_due()) == [key]
    result = _run("review", key, "--outcome", "retain", "--justification", "linked to op X")
    assert result.exit_code == 0, result.output
    expected = add_years(datetime.now(UTC).date(), 6)
    assert f"retained {key}: next review {expected.isoformat()}" in result.output

    document = deployment.doc(key)
    assert document is not None
    assert document["review_date"] == expected.isoformat()
    assert document["review"]["outcome"] == "retain"
    assert document["review"]["justification"] == "linked to op X"
    assert document["review"]["next_review"] == expected.isoformat()
    [record] = deployment.audit("review_retain")
    assert record.ids == [key] and record.justification == "linked to op X"
    assert record.query == {"outcome": "retain", "next_review": expected.isoformat()}
    assert record.user == document["review"]["by"]
    assert _due() == []

    # a replay or a reindex from Kafka rebuilds the document with the policy's date: the
    # decision, read from the audit trail, still holds
    deployment.put(Source.PUBLIC_REPORT, "pr-2", "2018-02-03T10:00:00+00:00")
    assert deployment.doc(key)["review_date"] == "2024-02-03"  # type: ignore[index]
    assert _due() == []
    far = (expected + timedelta(days=1)).isoformat()
    [row] = _due("--before", far)
    assert row["due"] == expected.isoformat() and row["extended_by"] == ["retained"]


def test_delete_erases_the_report_through_the_erasure_ledger(deployment: Deployment) -> None:
    key = deployment.put(Source.ONLINE_REFERRAL, "or-2", "2017-05-06T10:00:00+00:00")
    kept = deployment.put(Source.ONLINE_REFERRAL, "or-3", "2017-05-07T10:00:00+00:00")
    result = _run("review", key, "--outcome", "delete", "--justification", "no purpose left")
    assert result.exit_code == 0, result.output
    assert f"erased {key}" in result.output
    assert deployment.doc(key) is None
    assert deployment.doc(kept) is not None
    assert _keys(_due()) == [kept]
    ledger = ErasureLedger(deployment.settings)
    try:
        ledger.catch_up()
    finally:
        ledger.close()
    assert key in ledger.keys  # so no replay brings it back (tests/worker/test_erasure.py)
    [decision] = deployment.audit("review_delete")
    assert decision.ids == [key] and decision.justification == "no purpose left"
    [erasure] = deployment.audit("erase")
    assert erasure.ids == [key] and erasure.justification == "retention review: no purpose left"


def test_an_unknown_report_is_an_error_and_changes_nothing(deployment: Deployment) -> None:
    key = deployment.put(Source.PUBLIC_REPORT, "pr-3", "2018-02-03T10:00:00+00:00")
    for outcome in ("retain", "delete"):
        result = _run("review", "public_report:nope", "--outcome", outcome, "--justification", "x")
        assert result.exit_code != 0
        assert "no such report: public_report:nope; nothing was changed" in result.output
    bad = _run("review", "nosuchsource:1", "--outcome", "retain", "--justification", "x")
    assert bad.exit_code == 2
    blank = _run("review", key, "--outcome", "retain", "--justification", "  ")
    assert blank.exit_code == 2
    for action in ("review_retain", "review_delete", "erase"):
        assert deployment.audit(action) == []
    assert deployment.doc(key)["review_date"] == "2024-02-03"  # type: ignore[index]
    assert _keys(_due()) == [key]


def _alert(es: Elasticsearch, alias: str, alert: str, did: str, ack: dict[str, Any] | None) -> None:
    """An alert on `did`'s cluster with its hit, acknowledged as `ack` says."""
    common = {
        "alert_id": alert,
        "entry_id": "e1",
        "owner": "ana",
        "priority": "high",
        "cluster_id": f"c-{did}",
        "report_id": did,
        "source": "public_report",
        "seen_at": "2024-05-01T09:00:00+00:00",
        "restricted": False,
    }
    body = {"kind": "alert", **common, "published": True}
    if ack is not None:
        body["acknowledged"] = ack
    index = alerts_index(alias)
    es.index(index=index, id=alert, document=body)
    es.index(index=index, id=f"{alert}-hit", document={"kind": "hit", **common}, refresh=True)


def test_an_alert_acknowledged_as_relevant_extends_the_review(deployment: Deployment) -> None:
    es, alias = deployment.es, deployment.settings.index_alias
    relevant = deployment.put(Source.PUBLIC_REPORT, "pr-4", "2018-02-03T10:00:00+00:00")
    dismissed = deployment.put(Source.PUBLIC_REPORT, "pr-5", "2018-02-04T10:00:00+00:00")
    ensure_alerts_index(es, alias)
    at = "2024-05-01T12:00:00+00:00"
    _alert(
        es,
        alias,
        "a-1",
        doc_id("public_report", "pr-4"),
        {"by": "ana", "at": at, "outcome": "relevant"},
    )
    _alert(
        es,
        alias,
        "a-2",
        doc_id("public_report", "pr-5"),
        {"by": "ana", "at": at, "outcome": "not_relevant"},
    )
    assert _keys(_due()) == [dismissed]
    # ten years from the acknowledgement (PIPELINE_RETENTION_RELEVANT_ALERT_YEARS)
    first, row = _due("--before", "2034-05-02")  # oldest due first
    assert first["report"] == dismissed
    assert row["report"] == relevant
    assert (row["review_date"], row["due"]) == ("2024-02-03", "2034-05-01")
    assert row["extended_by"] == ["relevant_alert"]
    assert date.fromisoformat(row["due"]) > datetime.now(UTC).date()
