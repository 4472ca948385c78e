"""`pipeline watch` and `pipeline alerts` through the API served on loopback, over the real
Elasticsearch node and broker: the CLI holds no rights of its own, only the key's."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import pytest
from api_support import KEYS, USERS, Corpus, audit_entries
from click.testing import CliRunner, Result
from elasticsearch import Elasticsearch
from fastapi import FastAPI
from test_api_watch_alerts import PHONE, read_alerts_topic, topic_prefix

from pipeline.api.app import create_app
from pipeline.cli.watch import alerts, watch
from pipeline.enrich.watch.alerts import AlertWriter, Sighting, alerts_index, ensure_alerts_index
from pipeline.enrich.watch.entries import WatchEntry
from pipeline.enrich.watch.matcher import Match, alert_id
from pipeline.enrich.watch.publish import alerts_topic
from pipeline.settings import Settings, get_settings

pytestmark = pytest.mark.integration

__all__ = ["topic_prefix"]  # the fixture, shared with the API's alert tests


@pytest.fixture
def app(es: Elasticsearch, corpus: Corpus, topic_prefix: str) -> FastAPI:
    return create_app(corpus.settings.model_copy(update={"topic_prefix": topic_prefix}), es)


@pytest.fixture
def cli_env(corpus: Corpus, base_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Corpus]:
    monkeypatch.setenv("PIPELINE_API_URL", base_url)
    monkeypatch.setenv("PIPELINE_API_KEY", KEYS["analyst"])
    get_settings.cache_clear()
    yield corpus
    get_settings.cache_clear()


def run(command: Any, *args: str) -> Result:
    return CliRunner().invoke(command, list(args))


def ok(command: Any, *args: str) -> str:
    result = run(command, *args)
    assert result.exit_code == 0, result.output
    return result.output


def test_add_list_change_and_remove_an_entry(cli_env: Corpus, es: Elasticsearch) -> None:
    added = json.loads(
        ok(watch, "add", "phone:07700 900123", "--justification", "Op Bridge", "--json")
    )
    assert added["owner"] == USERS["analyst"]
    assert added["target"]["key"] == "+447700900123"
    line = ok(watch, "list", "--justification", "review")
    assert line.splitlines()[0] == "1 entry"
    assert added["id"] in line
    assert "live    normal" in line
    assert "phone:07700 900123 (matches +447700900123)" in line
    assert "why='Op Bridge'" in line

    search = ok(
        watch,
        "add",
        "--search",
        "bridge filming",
        "--source",
        "public_report",
        "--region",
        "London",
        "--justification",
        "Op Bridge",
        "--priority",
        "high",
        "--days",
        "30",
    )
    assert "search 'bridge filming' in public_report, London" in search
    assert (datetime.now(UTC) + timedelta(days=30)).strftime("until %Y-%m-%d") in search

    changed = ok(
        watch,
        "change",
        added["id"],
        "--priority",
        "low",
        "--expires",
        (datetime.now(UTC) + timedelta(days=10)).date().isoformat(),
        "--new-justification",
        "Op Bridge, phase 2",
        "--justification",
        "narrowing",
    )
    assert changed.startswith("changed: ")
    assert "low" in changed
    assert "why='Op Bridge, phase 2'" in changed

    assert ok(watch, "rm", added["id"], "--justification", "done") == f"deleted {added['id']}\n"
    assert ok(watch, "list", "--justification", "review").startswith("1 entry\n")
    records = [e for e in audit_entries(es, cli_env.settings) if e.action.startswith("watch_")]
    assert {e.channel for e in records} == {"cli"}
    assert sorted(e.action for e in records) == [
        "watch_change",
        "watch_create",
        "watch_create",
        "watch_delete",
        "watch_list",
        "watch_list",
    ]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["phone:0770"], "(422): body.target: Value error, phone: '0770' is not recognised"),
        (["boat:x"], "(422): body.target: Value error, unknown type 'boat'"),
        (["--search", "*bridge"], "(422): body.search.q: Value error, search: '*bridge' has a"),
        (["phone:07700 900123", "--restricted"], "(403): the analyst role may not watch"),
        (["phone:07700 900123", "--expires", "2020-01-01"], "(422): body.expiry: expiry"),
    ],
)
def test_a_refused_entry_is_one_clear_line(cli_env: Corpus, args: list[str], says: str) -> None:
    result = run(watch, "add", *args, "--justification", "Op Test")
    assert result.exit_code == 1, result.output
    assert "the API refused the request " + says in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_usage_mistakes_are_caught_before_the_api(cli_env: Corpus) -> None:
    for args in (
        ["--justification", "x"],
        ["phone:07700 900123", "--search", "x", "--justification", "x"],
        ["phone:07700 900123", "--source", "public_report", "--justification", "x"],
        ["phone:07700 900123", "--days", "3", "--expires", "2027-01-01", "--justification", "x"],
        ["phone:07700 900123", "--expires", "next week", "--justification", "x"],
        ["phone:07700 900123", "--justification", "  "],
    ):
        assert run(watch, "add", *args).exit_code == 2, args


def alice_alert(es: Elasticsearch, corpus: Corpus, entry_id: str, cluster: str) -> str:
    """A sighting of alice's entry in a report of `cluster`, written as the worker writes it."""
    alias = corpus.settings.index_alias
    ensure_alerts_index(es, alias)
    stored = es.get(index=f"{alias}-watch", id=entry_id)["_source"]
    entry = WatchEntry.model_validate(
        {k: v for k, v in stored.items() if k not in ("updated_at", "deleted")}
    )
    report = f"report-{cluster}"
    sighting = Sighting(Match(entry, PHONE), report, cluster, "public_report", datetime.now(UTC))
    AlertWriter(es, alias).write([sighting])
    es.indices.refresh(index=alerts_index(alias))
    return alert_id(entry_id, cluster)


def test_list_show_and_acknowledge_alerts(
    cli_env: Corpus, es: Elasticsearch, settings: Settings, topic_prefix: str
) -> None:
    entry = json.loads(ok(watch, "add", "phone:07700 900123", "--justification", "Op", "--json"))
    alert = alice_alert(es, cli_env, entry["id"], "c-bridge")
    listed = ok(alerts, "list", "--justification", "morning review")
    assert f"id={alert}" in listed
    assert "new    normal phone:+447700900123  reports=1 cluster=c-bridge" in listed
    shown = ok(alerts, "show", alert, "--justification", "reading")
    assert "report=report-c-bridge said '07700 900123'" in shown

    acked = ok(
        alerts, "ack", alert, "--outcome", "relevant", "--note", "seen", "--justification", "read"
    )
    assert "acked" in acked
    assert "relevant by alice" in acked
    assert ok(alerts, "list", "--unacknowledged", "--justification", "again") == ""
    refused = run(alerts, "ack", alert, "--outcome", "maybe", "--justification", "x")
    assert refused.exit_code == 2
    missing = run(alerts, "ack", "0" * 32, "--outcome", "relevant", "--justification", "x")
    assert missing.exit_code == 1
    assert "(404): you have no alert with this id" in missing.output

    [update] = read_alerts_topic(settings, alerts_topic(topic_prefix))
    assert (update["value"]["kind"], update["value"]["alert_id"]) == ("update", alert)
    actions = [e.action for e in audit_entries(es, cli_env.settings) if e.channel == "cli"]
    assert {"alert_list", "alert_view", "alert_ack"} <= set(actions)


def _lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line.rstrip("\n"))


def _next(lines: queue.Queue[str], timeout_s: float = 30) -> str:
    try:
        return lines.get(timeout=timeout_s)
    except queue.Empty:
        pytest.fail(f"no line from `alerts tail` within {timeout_s:.0f} s")


def test_tail_follows_new_alerts_and_updates_until_ctrl_c(
    cli_env: Corpus, es: Elasticsearch, base_url: str
) -> None:
    entry = json.loads(ok(watch, "add", "phone:07700 900123", "--justification", "Op", "--json"))
    before = alice_alert(es, cli_env, entry["id"], "c-before")  # there already: not printed
    env = {**os.environ, "PIPELINE_API_URL": base_url, "PIPELINE_API_KEY": KEYS["analyst"]}
    command = [sys.executable, "-m", "pipeline", "alerts", "tail", "--interval", "0.3"]
    with subprocess.Popen(
        [*command, "--justification", "watching the bridge"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        out: queue.Queue[str] = queue.Queue()
        err: queue.Queue[str] = queue.Queue()
        readers = [
            threading.Thread(target=_lines, args=(stream, into), daemon=True)
            for stream, into in ((process.stdout, out), (process.stderr, err))
        ]
        for reader in readers:
            reader.start()
        try:
            assert _next(err).startswith("following your alerts")
            fresh = alice_alert(es, cli_env, entry["id"], "c-new")
            line = _next(out)
            assert line.startswith(datetime.now(UTC).strftime("%Y-%m-%d"))
            assert "new    normal phone:+447700900123  reports=1 cluster=c-new" in line
            assert line.endswith(f"id={fresh}")
            ok(alerts, "ack", before, "--outcome", "duplicate", "--justification", "dup")
            line = _next(out)
            assert line.split()[2] == "update"
            assert "duplicate by alice" in line
            assert line.endswith(f"id={before}")
            time.sleep(1)
            assert out.empty()  # each change once, however often it was polled
        finally:
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=30)
            for reader in readers:
                reader.join(timeout=10)
    assert code == 0
