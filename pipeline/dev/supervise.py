"""`pipeline run`: prepare the stack, topics and index, then supervise worker and API processes.

Not on a terminal (containers, CI), every process logs JSON lines to this one's stdout and
stderr, as each would alone. On a terminal (`pipeline.dev.console`), each process logs to its
own file under `<state_dir>/logs` and the screen shows a live status instead.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from pipeline.dev.first_run import LocalKeys, local_api_keys
from pipeline.settings import Settings

log = logging.getLogger(__name__)

RESTART_BACKOFF_MAX_S = 30.0
_DEMO_PROGRESS = re.compile(r"\.\.\. (\d+)/(\d+) published")
_DEMO_DONE = re.compile(r"^published (\d+); (\d+) deliberately bad")


@dataclass
class Child:
    """One supervised process and how to start it again; `log` None means our own output."""

    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    log: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)
    restart_at: float | None = None

    def start(self) -> None:
        log.info("starting %s: %s", self.name, " ".join(self.argv))
        self.restart_at = None
        if self.log is None:
            self.process = subprocess.Popen(self.argv, env=self.env)
        else:
            with self.log.open("ab") as out:
                # A group of its own: Ctrl-C reaches the supervisor, which stops it in order.
                self.process = subprocess.Popen(
                    self.argv,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    process_group=0,
                )
        self.started_at = time.monotonic()

    def check(self) -> str | None:
        """Restart the process when it is due; a new state to show when it changed."""
        assert self.process is not None
        now = time.monotonic()
        if self.restart_at is not None:
            if now < self.restart_at:
                return None
            self.start()
            return "starting"
        code = self.process.poll()
        if code is None:
            return None
        if now - self.started_at > 60:
            self.restarts = 0
        self.restarts += 1
        delay = min(RESTART_BACKOFF_MAX_S, 2.0**self.restarts)
        log.error("%s exited with code %s; restarting in %.0fs", self.name, code, delay)
        self.restart_at = now + delay
        return f"exited {code}, restarting"


def prepare(settings: Settings, echo: Callable[[str], None] | None = None) -> None:
    """Start the local stack when no cluster is configured; ensure topics, index, dedup state."""
    from pipeline.admin.topics import ensure_topics
    from pipeline.clients import elasticsearch_client
    from pipeline.enrich.dedup import Deduplicator
    from pipeline.index.mapping import ensure_index

    if settings.uses_local_stack:
        from pipeline.dev.stack.control import up

        # The stack's set-up logs in with PLAIN (pipeline.credentials.admin_kafka_options), and
        # kafka-python warns of every such login; the local broker listens on loopback only.
        logging.getLogger("kafka.net.sasl.plain").addFilter(_not_in_the_clear)

        if echo is None:
            up(settings)
        else:
            up(settings, echo)
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


def _not_in_the_clear(record: logging.LogRecord) -> bool:
    return "in the clear" not in record.getMessage()


def api_keys(settings: Settings) -> LocalKeys | None:
    """The local first-run keys, or None (configured keys, or a configured cluster: warned)."""
    keys = local_api_keys(settings)
    configured = settings.api_keys is not None and settings.api_keys.get_secret_value().strip()
    if keys is None and not configured:
        log.warning(
            "PIPELINE_API_KEYS is empty: the search API will refuse every request. Local keys "
            "are made only for the local stack, never for a configured cluster: set "
            'PIPELINE_API_KEYS=\'{"<key>": {"user": "...", "role": "analyst"}}\' (README, '
            '"Configuration")'
        )
    elif keys is not None and keys.created:
        log.info("made local API keys, one per role, in %s (mode 0600)", keys.path)
    return keys


def api_url(settings: Settings) -> str:
    """Where a browser on this machine reaches the web page."""
    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::", "") else settings.api_host  # noqa: S104
    return f"http://{host}:{settings.api_port}/"


def children(
    settings: Settings,
    workers: int,
    api: bool,
    keys: LocalKeys | None,
    logs: Callable[[str], Path] | None = None,
) -> list[Child]:
    """The processes to supervise; `logs` names each one's log file (None: inherit ours)."""
    python = sys.executable

    def child(name: str, argv: list[str], env: dict[str, str] | None = None) -> Child:
        return Child(name, [python, "-m", "pipeline", *argv], env, logs(name) if logs else None)

    started = [
        child(f"worker-{n}", ["worker", "--port", str(settings.worker_port + n)])
        for n in range(workers)
    ]
    if api:
        env = None if keys is None else {**os.environ, "PIPELINE_API_KEYS": keys.as_setting()}
        started.append(child("api", ["api"], env))
    return started


def demo_child(count: int, logs: Callable[[str], Path] | None = None) -> Child:
    """`pipeline demo --count N`, run once."""
    argv = [sys.executable, "-m", "pipeline", "demo", "--count", str(count)]
    return Child("demo", argv, log=logs("demo") if logs else None)


def demo_progress(lines: list[str]) -> str:
    """What the demo's output says of its progress, for the console."""
    for line in reversed(lines):
        done = _DEMO_DONE.search(line)
        if done:
            return f"published {done.group(1)} records ({done.group(2)} deliberately bad)"
        going = _DEMO_PROGRESS.search(line)
        if going:
            return f"publishing: {going.group(1)}/{going.group(2)}"
    return "publishing"


class Stopper:
    """SIGINT and SIGTERM ask the loop to stop rather than interrupting it."""

    def __init__(self) -> None:
        self.stopping = False
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGTERM, self._stop)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True


def run_all(settings: Settings, *, workers: int, api: bool, demo_count: int) -> int:
    """Supervise until SIGINT/SIGTERM; returns the exit code."""
    if sys.stdout.isatty() and sys.stderr.isatty():
        from pipeline.dev.run_console import run_on_terminal

        return run_on_terminal(settings, workers=workers, api=api, demo_count=demo_count)
    from pipeline.ops.logging import configure_logging

    configure_logging(settings)
    prepare(settings)
    keys = api_keys(settings) if api else None
    running = children(settings, workers, api, keys)
    stopper = Stopper()
    for child in running:
        child.start()
    demo = demo_child(demo_count) if demo_count else None
    if demo is not None:
        demo.start()
    if api:
        log.info("search API and web page on %s", api_url(settings))
        if keys is not None:
            log.info("sign in with a key from %s (one per role)", keys.path)
    try:
        while not stopper.stopping:
            for child in running:
                child.check()
            time.sleep(0.5)
    finally:
        stop_all([*running, *([demo] if demo else [])])
    return 0


def stop_all(running: list[Child], grace_s: float = 30.0) -> None:
    """SIGTERM every process, then SIGKILL what has not stopped after `grace_s`."""
    for child in running:
        if child.process and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for child in running:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.error("%s did not stop in %.0fs; killing it", child.name, grace_s)
            child.process.kill()
            child.process.wait()
