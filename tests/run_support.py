"""Running the README's run command, `bin/pipeline run`, from a test on the session's stack.

Topics, consumer group and alias are unique to the test (`run_env`); on the local stack the
run makes the local sign-in keys itself (`console_env`), and a pseudo-terminal's output is read
as the screen a person sees (`screen_text`). Shared by the terminal test and the browser
end-to-end test.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pexpect
import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient

from pipeline.clients import kafka_config
from pipeline.dev.first_run import keys_path
from pipeline.settings import Settings
from tests.conftest import delete_everything_named
from tests.harness import free_port

__all__ = ["KEY", "ROOT", "Screen", "api_answers", "console_env", "run_env", "screen_text"]

ROOT = Path(__file__).resolve().parent.parent
KEY = "run-test-key-0123456789"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")


@pytest.fixture
def run_env(
    settings: Settings, es: Elasticsearch, unique_name: Callable[[str], str]
) -> Iterator[dict[str, str]]:
    name = unique_name("run")
    env = dict(os.environ)
    if not settings.uses_local_stack:
        env.update(
            KAFKA_BOOTSTRAP_SERVERS=settings.kafka_servers, ELASTICSEARCH_URL=settings.es_hosts
        )
    env.update(
        PIPELINE_TOPIC_PREFIX=f"{name}.",
        PIPELINE_CONSUMER_GROUP=f"{name}-group",
        PIPELINE_INDEX_ALIAS=f"{name}-reports",
        PIPELINE_WORKER_PORT=str(free_port()),
        PIPELINE_API_PORT=str(free_port()),
        PIPELINE_API_KEYS=f'{{"{KEY}": {{"user": "newcomer", "role": "analyst"}}}}',
        PIPELINE_BATCH_TIMEOUT_S="0.2",
        PIPELINE_LOG_FORMAT="text",
    )
    yield env
    admin = KafkaAdminClient(**kafka_config(settings))
    try:
        prefix = env["PIPELINE_TOPIC_PREFIX"]
        mine = [t for t in admin.list_topics() if t.startswith(prefix)]
        if mine:
            admin.delete_topics(mine)
    finally:
        admin.close()
    delete_everything_named(es, name)


def screen_text(raw: str) -> str:
    """What the terminal shows, less its control sequences (one redraw after another)."""
    return _ANSI.sub("", raw)


@pytest.fixture
def console_env(settings: Settings, run_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """On the local stack, no PIPELINE_API_KEYS: the run makes (or reuses) the local keys."""
    env = dict(run_env)
    env.pop("PIPELINE_LOG_FORMAT")  # the files get the default JSON lines
    env.update(PIPELINE_BATCH_SIZE="10", TERM="xterm-256color", COLUMNS="120", LINES="50")
    keys = keys_path(settings.state_dir)
    made_here = settings.uses_local_stack and not keys.exists()
    if settings.uses_local_stack:
        del env["PIPELINE_API_KEYS"]
    yield env
    if made_here:
        keys.unlink(missing_ok=True)  # leave the session's state dir as it was


def api_answers(port: str, key: str) -> int:
    headers = {"X-API-Key": key, "X-Justification": "terminal run test"}
    url = f"http://127.0.0.1:{port}/api/search"
    return httpx.get(url, params={"size": 1}, headers=headers, timeout=10).status_code


class Screen:
    """`bin/pipeline run --demo N` in a pseudo-terminal, and what it has shown so far."""

    def __init__(self, env: dict[str, str], demo: int) -> None:
        self.child = pexpect.spawn(
            str(ROOT / "bin" / "pipeline"),
            ["run", "--demo", str(demo)],
            env=env,
            dimensions=(50, 120),
            encoding="utf-8",
            codec_errors="replace",
            timeout=5,
        )
        self.seen: list[str] = []

    def read_for(self, seconds: float) -> None:
        """Read what the run draws for `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.seen.append(self.child.read_nonblocking(65536, timeout=1))
            except pexpect.TIMEOUT:
                continue

    @property
    def text(self) -> str:
        return screen_text("".join(self.seen))

    def stop(self) -> int | None:
        """Ctrl-C, as a person would; the exit status once it has ended."""
        self.child.sendintr()
        self.child.expect(pexpect.EOF, timeout=90)
        self.seen.append(self.child.before or "")
        self.child.close()
        return self.child.exitstatus
