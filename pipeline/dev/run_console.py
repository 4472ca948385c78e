"""`pipeline run` on a terminal: logs to files under the state dir, a live status on screen."""

from __future__ import annotations

import logging
import time
from functools import partial

from rich.console import Console

from pipeline.dev import supervise
from pipeline.dev.console import live_console
from pipeline.dev.first_run import LocalKeys
from pipeline.dev.run_logs import Problem, log_path, logs_dir, rotate
from pipeline.dev.run_view import Probe, RunView, WorkerView
from pipeline.dev.stack.process import tail
from pipeline.settings import Settings

__all__ = ["run_on_terminal"]

log = logging.getLogger(__name__)


class _Problems(logging.Handler):
    """The supervisor's own warnings and errors, for the status screen."""

    def __init__(self, view: RunView) -> None:
        super().__init__(logging.WARNING)
        self.view = view

    def emit(self, record: logging.LogRecord) -> None:
        at = time.strftime("%H:%M:%S", time.localtime(record.created))
        self.view.problems.add(Problem(at, "run", record.levelname, record.getMessage()))


def _stack(settings: Settings) -> str:
    where = "local stack" if settings.uses_local_stack else "cluster"
    return f"{where}: Kafka {settings.kafka_servers}, Elasticsearch {settings.es_url}"


def _sign_in(settings: Settings, keys: LocalKeys | None) -> tuple[str, list[str]]:
    """The status line about signing in, and what to print once above the status."""
    from pipeline.api.auth import Role

    if keys is not None:
        return (
            f"analyst key printed above; every role's key in {keys.path}",
            [
                f"Web page: {supervise.api_url(settings)}  sign in with this analyst key "
                f"({keys.user(Role.ANALYST)}):",
                f"    {keys.by_role[Role.ANALYST]}",
                f"Keys for every role ({', '.join(r.value for r in keys.by_role)}) are in "
                f"{keys.path} (mode 0600).",
            ],
        )
    if settings.api_keys is not None and settings.api_keys.get_secret_value().strip():
        return "with a key from PIPELINE_API_KEYS", []
    return "no API keys: set PIPELINE_API_KEYS (every request is refused)", []


def run_on_terminal(settings: Settings, *, workers: int, api: bool, demo_count: int) -> int:
    """Supervise like `run_all`, drawing a live status; returns the exit code."""
    from pipeline.ops.logging import configure_logging

    logs = partial(log_path, settings.state_dir)
    names = ["run", *(f"worker-{n}" for n in range(workers)), "api", "demo"]
    for name in names:
        rotate(logs(name))
    view = RunView(stack=_stack(settings), group=settings.consumer_group)
    view.logs = f"logs: {logs_dir(settings.state_dir)}  (pipeline logs worker-0 -f)"
    problems = _Problems(view)
    with logs("run").open("a", encoding="utf-8") as own_log:
        configure_logging(settings, stream=own_log)
        logging.getLogger().addHandler(problems)
        try:
            with live_console(view) as console:
                code = _supervise(
                    settings, view, console, workers=workers, api=api, demo_count=demo_count
                )
            console.print(f"stopped; logs kept in {logs_dir(settings.state_dir)}", highlight=False)
            return code
        finally:
            root = logging.getLogger()
            # the file closes with this block: what is logged after it goes to stderr
            for handler in [problems, *(h for h in root.handlers if h.get_name() == "pipeline")]:
                root.removeHandler(handler)


def _supervise(
    settings: Settings, view: RunView, console: Console, *, workers: int, api: bool, demo_count: int
) -> int:
    logs = partial(log_path, settings.state_dir)

    def echo(message: str) -> None:
        log.info("stack: %s", message)
        view.phase = f"stack: {message}"

    view.phase = "starting the local stack" if settings.uses_local_stack else "checking the cluster"
    try:
        supervise.prepare(settings, echo)
    except KeyboardInterrupt:
        return 130
    view.phase = "starting"
    keys = supervise.api_keys(settings) if api else None
    if api:
        view.api_url = supervise.api_url(settings)
        view.sign_in, lines = _sign_in(settings, keys)
        for line in lines:
            console.print(line, highlight=False, markup=False)
    running = supervise.children(settings, workers, api, keys, logs)
    view.workers = [
        WorkerView(c.name, settings.worker_port + n)
        for n, c in enumerate(running)
        if c.name.startswith("worker-")
    ]
    shown = {w.name: w for w in view.workers}
    stopper = supervise.Stopper()
    for child in running:
        child.start()
    demo = supervise.demo_child(demo_count, logs) if demo_count else None
    if demo is not None:
        demo.start()
    health = f"{view.api_url}healthz" if view.api_url else None
    view.phase = "running"
    with Probe(view, _probe_host(settings), health):
        try:
            while not stopper.stopping:
                for child in running:
                    state = child.check()
                    if state is not None and child.name in shown:
                        shown[child.name].state = state
                    if child.log is not None:
                        view.problems.scan(child.name, child.log)
                if demo is not None and demo.log is not None:
                    view.demo = _demo_state(demo)
                time.sleep(0.5)
        finally:
            view.phase = "stopping"
            for worker in view.workers:
                worker.state = "stopping"
            supervise.stop_all([*running, *([demo] if demo else [])])
    return 0


def _demo_state(demo: supervise.Child) -> str:
    assert demo.process is not None and demo.log is not None
    progress = supervise.demo_progress(tail(demo.log, 5))
    code = demo.process.poll()
    if code not in (None, 0):
        return f"failed (exit {code}): pipeline logs demo"
    return progress


def _probe_host(settings: Settings) -> str:
    host = settings.worker_host
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
