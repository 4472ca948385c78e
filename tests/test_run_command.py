"""The README's first command, `bin/pipeline run --demo N`, end to end on the session's stack.

On the local stack no cluster is configured, so `run` goes through its own `stack up` (which
finds the session's stack running and reuses it); elsewhere the cluster is passed in the
environment. Topics, group and alias are unique to the test. It checks what a newcomer would:
every valid demo record searchable through the search API, every bad one dead-lettered, and
Ctrl-C stopping everything cleanly. The same run in a pseudo-terminal (pexpect) is read as a
person would read the screen: the worker's indexed count rises while the status redraws, no
log line reaches the screen (the logs are in the state dir's files), and Ctrl-C exits 0.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient, KafkaConsumer

from pipeline.clients import kafka_config
from pipeline.dev.demo import generate
from pipeline.dev.first_run import keys_path
from pipeline.dev.run_logs import log_path
from pipeline.dev.stack.process import port_open
from pipeline.ingest.sources import dlq_topic, intake_topics
from pipeline.settings import Settings
from tests.harness import wait_for
from tests.run_support import KEY, ROOT, Screen, api_answers, console_env, run_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# the run command's fixtures (tests/run_support.py), imported so these tests can use them
__all__ = ["console_env", "run_env"]

COUNT = 60


def dead_letters(settings: Settings, topic: str) -> int:
    consumer = KafkaConsumer(
        topic, **kafka_config(settings), auto_offset_reset="earliest", consumer_timeout_ms=3000
    )
    try:
        return sum(1 for _ in consumer)
    finally:
        consumer.close()


def test_run_with_demo_indexes_the_stream_serves_search_and_stops_on_ctrl_c(
    settings: Settings, es: Elasticsearch, run_env: dict[str, str], tmp_path: Path
) -> None:
    expected = list(generate(COUNT))
    valid = sum(1 for r in expected if r.bad is None)
    bad = COUNT - valid
    assert bad > 0
    alias, prefix = run_env["PIPELINE_INDEX_ALIAS"], run_env["PIPELINE_TOPIC_PREFIX"]
    api = f"http://127.0.0.1:{run_env['PIPELINE_API_PORT']}"
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log_file:
        run = subprocess.Popen(
            [str(ROOT / "bin" / "pipeline"), "run", "--demo", str(COUNT)],
            env=run_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    log = lambda: log_path.read_text(errors="replace")[-6000:]  # noqa: E731
    try:

        def searchable() -> int:
            if not es.indices.exists_alias(name=alias):
                return 0
            es.indices.refresh(index=alias)
            return int(es.count(index=alias)["count"])

        wait_for(lambda: searchable() >= valid, 300, f"{valid} demo reports indexed", log)
        assert searchable() == valid
        topics = set(intake_topics(prefix)) | {dlq_topic(prefix)}
        admin = KafkaAdminClient(**kafka_config(settings))
        try:
            assert topics <= set(admin.list_topics())
        finally:
            admin.close()
        wait_for(lambda: dead_letters(settings, dlq_topic(prefix)) >= bad, 60, "dead letters", log)

        headers = {"X-API-Key": KEY, "X-Justification": "run command test"}
        wait_for(lambda: port_open(int(run_env["PIPELINE_API_PORT"])), 60, "the API", log)
        page = httpx.get(
            f"{api}/api/search", params={"collapse": "false", "size": 5}, headers=headers
        )
        assert page.status_code == 200, page.text
        assert page.json()["total"] == valid
        assert httpx.get(f"{api}/api/search", timeout=10).status_code == 401
    finally:
        run.send_signal(signal.SIGINT)
        code = run.wait(timeout=90)
    assert code == 0, log()
    assert not port_open(int(run_env["PIPELINE_API_PORT"]))
    assert not port_open(int(run_env["PIPELINE_WORKER_PORT"]))


CONSOLE_COUNT = 120
_WORKER_ROW = re.compile(r"worker-0\s+(\S[^\n]*?)\s+(\d+\.\d)\s+(\d+)\s+(\d+)")


def test_run_on_a_terminal_shows_a_live_status_and_no_log_lines(
    settings: Settings,
    es: Elasticsearch,
    console_env: dict[str, str],
) -> None:
    valid = sum(1 for r in generate(CONSOLE_COUNT) if r.bad is None)
    run = Screen(console_env, CONSOLE_COUNT)

    def indexed() -> list[int]:
        """The worker's indexed count in each redraw so far."""
        return [int(row.group(3)) for row in _WORKER_ROW.finditer(run.text)]

    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and valid not in indexed():
            run.read_for(2)
            assert run.child.isalive(), run.text[-3000:]
        screen = run.text
        counts = indexed()
        assert valid in counts, screen[-3000:]
        assert len(set(counts)) >= 2, f"the indexed count never changed: {counts}"
        assert counts == sorted(counts)
        assert "ready" in screen
        assert f"http://127.0.0.1:{console_env['PIPELINE_API_PORT']}/" in screen
        assert "publish" in screen  # the demo's progress
        port = console_env["PIPELINE_API_PORT"]
        wait_for(lambda: port_open(int(port)), 60, "the API", lambda: screen[-3000:])
        if settings.uses_local_stack:
            granted = json.loads(keys_path(settings.state_dir).read_text())
            by_role = {entry["role"]: key for key, entry in granted.items()}
            assert set(by_role) == {"analyst", "restricted", "operator", "auditor"}
            assert "sign in with this analyst key" in screen
            assert by_role["analyst"] in screen
            assert by_role["restricted"] not in screen
            assert str(keys_path(settings.state_dir)) in screen
            assert api_answers(port, by_role["analyst"]) == 200
        else:
            assert "with a key from PIPELINE_API_KEYS" in screen
            assert api_answers(port, KEY) == 200
        run.read_for(3)
    finally:
        code = run.stop()
    screen = run.text
    assert code == 0, screen[-3000:]
    assert "stopped; logs kept in" in screen
    assert not re.search(r'\{"timestamp"|"level":', screen), "a JSON log line reached the screen"
    assert not re.search(r"\b(INFO|WARNING)\b \S+: ", screen), "a text log line reached the screen"
    assert not port_open(int(console_env["PIPELINE_API_PORT"]))
    assert not port_open(int(console_env["PIPELINE_WORKER_PORT"]))
    worker_log = log_path(settings.state_dir, "worker-0")
    assert '"level": "INFO"' in worker_log.read_text(errors="replace")
