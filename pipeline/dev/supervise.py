"""`pipeline run`: prepare the stack, topics and index, then supervise worker and API processes."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import FrameType

from pipeline.settings import Settings

log = logging.getLogger(__name__)

RESTART_BACKOFF_MAX_S = 30.0


@dataclass
class Child:
    """One supervised process and how to start it again."""

    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)

    def start(self) -> None:
        log.info("starting %s: %s", self.name, " ".join(self.argv))
        self.process = subprocess.Popen(self.argv)
        self.started_at = time.monotonic()


def prepare(settings: Settings) -> None:
    """Start the local stack when no cluster is configured; ensure topics, index, dedup state."""
    from pipeline.admin.topics import ensure_topics
    from pipeline.clients import elasticsearch_client
    from pipeline.enrich.dedup import Deduplicator
    from pipeline.index.mapping import ensure_index

    if settings.uses_local_stack:
        from pipeline.dev.stack.control import up

        up(settings)
    ensure_topics(settings)
    es = elasticsearch_client(settings)
    try:
        index = ensure_index(es, settings)
        Deduplicator(es, settings).ensure()
        from pipeline.api.audit import AuditTrail, audit_index

        AuditTrail(es, audit_index(settings)).ensure()  # the API may only append to it
    finally:
        es.close()
    log.info("index ready: alias %s -> %s", settings.index_alias, index)


def _children(settings: Settings, workers: int, api: bool) -> list[Child]:
    python = sys.executable
    children = [
        Child(
            f"worker-{n}",
            [python, "-m", "pipeline", "worker", "--port", str(settings.worker_port + n)],
        )
        for n in range(workers)
    ]
    if api:
        children.append(Child("api", [python, "-m", "pipeline", "api"]))
    return children


def run_all(settings: Settings, *, workers: int, api: bool, demo_count: int) -> int:
    """Supervise until SIGINT/SIGTERM; returns the exit code."""
    from pipeline.ops.logging import configure_logging

    configure_logging(settings)
    prepare(settings)
    children = _children(settings, workers, api)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for child in children:
        child.start()
    if demo_count:
        subprocess.run(
            [sys.executable, "-m", "pipeline", "demo", "--count", str(demo_count)], check=False
        )
    if api:
        log.info("search API and web page on http://%s:%d/", settings.api_host, settings.api_port)
    try:
        while not stopping:
            for child in children:
                _restart_if_dead(child)
            time.sleep(0.5)
    finally:
        _stop_all(children)
    return 0


def _restart_if_dead(child: Child) -> None:
    assert child.process is not None
    code = child.process.poll()
    if code is None:
        return
    if time.monotonic() - child.started_at > 60:
        child.restarts = 0
    child.restarts += 1
    delay = min(RESTART_BACKOFF_MAX_S, 2.0**child.restarts)
    log.error("%s exited with code %s; restarting in %.0fs", child.name, code, delay)
    time.sleep(delay)
    child.start()


def _stop_all(children: list[Child], grace_s: float = 30.0) -> None:
    for child in children:
        if child.process and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.error("%s did not stop in %.0fs; killing it", child.name, grace_s)
            child.process.kill()
            child.process.wait()
