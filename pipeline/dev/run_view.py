"""What `pipeline run`'s console shows, as plain data, and the probe that fills it in.

The supervisor sets the phase and each process's state; `Probe` reads every worker's own
`/metrics` and `/readyz` and the API's `/healthz` (nothing else is asked of the cluster).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

from pipeline.dev.run_logs import LogProblems

__all__ = ["Numbers", "Probe", "RunView", "WorkerView", "read_numbers"]

log = logging.getLogger(__name__)

_RATE_WINDOW_S = 5.0
# /readyz asks Kafka and Elasticsearch each time: not every second, less often once ready
_READY_EVERY_S = {True: 3.0, False: 10.0}


@dataclass(frozen=True, slots=True)
class Numbers:
    """One worker's counters and its consumer group's lag, from its /metrics."""

    indexed: int = 0
    dead_lettered: int = 0
    stale: int = 0
    lag: int | None = None

    @property
    def processed(self) -> int:
        """Records finished one way or another."""
        return self.indexed + self.dead_lettered + self.stale


def read_numbers(exposition: str) -> Numbers:
    """Counters and summed lag from a worker's Prometheus exposition text."""
    outcomes: dict[str, float] = {}
    lag: float | None = None
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == "ct_pipeline_records_total":
                outcome = sample.labels.get("outcome", "")
                outcomes[outcome] = outcomes.get(outcome, 0.0) + sample.value
            elif sample.name == "ct_pipeline_consumer_lag_records":
                lag = (lag or 0.0) + sample.value
    return Numbers(
        indexed=int(outcomes.get("indexed", 0)),
        dead_lettered=int(outcomes.get("dead_lettered", 0)),
        stale=int(outcomes.get("stale", 0)),
        lag=None if lag is None else int(lag),
    )


@dataclass
class WorkerView:
    """One worker as the console shows it."""

    name: str
    port: int
    state: str = "starting"
    detail: str = ""
    numbers: Numbers = field(default_factory=Numbers)
    rate: float = 0.0
    _seen: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=64))
    ready_checked: float = 0.0

    def count(self, numbers: Numbers, now: float) -> None:
        """Take a fresh reading; records/s is over the last few seconds."""
        self.numbers = numbers
        self._seen.append((now, numbers.processed))
        while len(self._seen) > 2 and now - self._seen[0][0] > _RATE_WINDOW_S:
            self._seen.popleft()
        first_at, first = self._seen[0]
        self.rate = (numbers.processed - first) / (now - first_at) if now > first_at else 0.0


@dataclass
class RunView:
    """Everything the console shows."""

    stack: str
    phase: str = "starting"
    workers: list[WorkerView] = field(default_factory=list)
    api_url: str | None = None
    api_state: str = "starting"
    sign_in: str = ""
    demo: str = ""
    logs: str = ""
    group: str = ""
    problems: LogProblems = field(default_factory=LogProblems)
    started: float = field(default_factory=time.monotonic)

    @property
    def lag(self) -> int | None:
        """The consumer group's lag as the workers last read it."""
        readings = [w.numbers.lag for w in self.workers if w.numbers.lag is not None]
        return max(readings) if readings else None


class Probe:
    """Polls the workers and the API about once a second in a daemon thread."""

    def __init__(self, view: RunView, host: str, api_health: str | None) -> None:
        self.view = view
        self._host = host
        self._api_health = api_health
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="run-probe", daemon=True)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        with httpx.Client(timeout=1.5) as client:
            while not self._stop.wait(1.0):
                try:
                    for worker in self.view.workers:
                        self._worker(client, worker)
                    if self._api_health is not None:
                        up = _answers(client, self._api_health)
                        self.view.api_state = "up" if up else "down"
                except Exception:  # the screen going stale must not end the probe
                    log.debug("probing the workers failed", exc_info=True)

    def _worker(self, client: httpx.Client, worker: WorkerView) -> None:
        if worker.state.startswith(("exited", "restarting", "stopping")):
            return
        base = f"http://{self._host}:{worker.port}"
        try:
            response = client.get(f"{base}/metrics")
            response.raise_for_status()
        except httpx.HTTPError:
            return  # still starting (spaCy takes a while to load), or between restarts
        now = time.monotonic()
        worker.count(read_numbers(response.text), now)
        if now - worker.ready_checked < _READY_EVERY_S[worker.state != "ready"]:
            return
        worker.ready_checked = now
        try:
            report = client.get(f"{base}/readyz", timeout=10).json()
        except (httpx.HTTPError, ValueError):
            return
        failing = [
            str(c.get("detail", name))
            for name, c in report.get("checks", {}).items()
            if not c.get("ok")
        ]
        worker.state = "ready" if report.get("ready") else "not ready"
        worker.detail = "; ".join(failing)


def _answers(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(url).status_code == 200
    except httpx.HTTPError:
        return False
