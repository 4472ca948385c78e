"""`up`, `down` and `status` of the local stack: one Kafka broker and one Elasticsearch node."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline import credentials
from pipeline.admin import acls
from pipeline.dev.stack import artifacts, elasticsearch, kafka, licence, process
from pipeline.errors import StackError
from pipeline.settings import Settings

Echo = Callable[[str], None]
STOP_GRACE_S = 30.0
PORT_RELEASE_S = process.EXIT_WAIT_S  # how long a port may stay held by a process that is exiting
SERVICES = ("kafka", "elasticsearch")


def _stderr(message: str) -> None:
    print(f"stack: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class ServiceStatus:
    """What `stack status` reports about one service."""

    name: str
    version: str
    port: int
    pid: int | None
    healthy: bool
    health: str
    log: str


def log_file(settings: Settings, service: str) -> Path:
    """The main log of `kafka` or `elasticsearch`, or its console output before logging starts."""
    if service == "kafka":
        paths_k = kafka.KafkaPaths.of(settings)
        return paths_k.server_log if paths_k.server_log.exists() else paths_k.console
    if service == "elasticsearch":
        paths_e = elasticsearch.ElasticsearchPaths.of(settings)
        return paths_e.server_log if paths_e.server_log.exists() else paths_e.console
    raise StackError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")


def _kafka_pid(settings: Settings) -> int | None:
    paths = kafka.KafkaPaths.of(settings)
    return process.live_pid(paths.pid_file, paths.marker)


def _es_pid(settings: Settings) -> int | None:
    paths = elasticsearch.ElasticsearchPaths.of(settings)
    return process.live_pid(paths.pid_file, paths.marker)


def _clear_strays(marker: str, name: str, echo: Echo) -> None:
    """Stop processes of ours that no PID file accounts for (e.g. a half-finished start)."""
    strays = process.find_processes(marker)
    if strays:
        echo(f"stopping stray {name} processes {strays}")
        process.stop(strays, grace_s=STOP_GRACE_S, markers=[marker])


def _refuse_busy(port: int, name: str, echo: Echo) -> None:
    # A process killed a moment ago keeps its sockets while the kernel tears its memory down, and
    # its cmdline (our marker) is already gone by then: give the port a moment to be released.
    if not process.port_open(port):
        return
    echo(f"port {port} needed by {name} is in use; waiting up to {PORT_RELEASE_S:g}s for it")
    if process.wait_for(lambda: not process.port_open(port), timeout_s=PORT_RELEASE_S):
        return
    raise StackError(
        f"port {port} needed by {name} is taken by a process that is not this stack's; "
        "stop it or choose other ports (STACK_KAFKA_PORT, STACK_ES_PORT, ...)"
    )


def _has_data(settings: Settings) -> bool:
    kafka_data = kafka.KafkaPaths.of(settings).data
    es_data = elasticsearch.ElasticsearchPaths.of(settings).data
    return (kafka_data / "meta.properties").exists() or (
        es_data.exists() and any(es_data.iterdir())
    )


def _credentials(
    settings: Settings, secure: bool, running: bool, echo: Echo
) -> credentials.StackCredentials | None:
    """The stack's credentials, made for a new stack; None for one made before security."""
    existing = credentials.load(settings.state_dir)
    if existing is not None:
        return existing
    if not _has_data(settings) or (secure and not running):
        return credentials.create(settings.state_dir)
    how = "to switch it on: `pipeline stack down`, then `pipeline stack up --secure` (data is kept)"
    if secure:
        raise StackError(f"security can be switched on only while the stack is stopped; {how}")
    echo(f"WARNING: this stack predates security and runs without authentication; {how}")
    return None


def up(settings: Settings, echo: Echo = _stderr, *, secure: bool = False) -> None:
    """Start whatever is not running, then wait until both services are healthy.

    A new stack gets users, roles and ACLs (README, "Security"); `secure` switches them on
    for a stopped stack created before they existed. Idempotent: running services are reused
    untouched. Raises StackError naming the log file when a service dies or is not healthy
    within `settings.stack_start_timeout_s`.
    """
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    settings.state_dir.chmod(0o755)
    started = time.monotonic()
    with process.locked(settings.state_dir / "stack.lock"):
        kafka_paths = kafka.KafkaPaths.of(settings)
        es_paths = elasticsearch.ElasticsearchPaths.of(settings)
        kafka_pid = _kafka_pid(settings)
        running = kafka_pid is not None or _es_pid(settings) is not None
        secrets = _credentials(settings, secure, running, echo)
        launcher: subprocess.Popen[bytes] | None = None
        if kafka_pid is None:
            _clear_strays(kafka_paths.marker, "Kafka", echo)
            _refuse_busy(settings.stack_kafka_port, "Kafka", echo)
            _refuse_busy(settings.stack_kafka_controller_port, "the Kafka controller", echo)
            classpath = artifacts.kafka_classpath(settings, echo)
            kafka.prepare(settings, classpath, secrets)
            kafka_pid = kafka.start(settings, classpath, kafka_paths)
            echo(
                f"starting Kafka {settings.kafka_version} on 127.0.0.1:"
                f"{settings.stack_kafka_port} (pid {kafka_pid}, log {kafka_paths.server_log})"
            )
        else:
            echo(f"Kafka already running (pid {kafka_pid})")
        if _es_pid(settings) is None:
            _clear_strays(es_paths.marker, "Elasticsearch", echo)
            _refuse_busy(settings.stack_es_port, "Elasticsearch", echo)
            archive = artifacts.elasticsearch_zip(settings, echo)
            user = process.service_user(settings.stack_user)
            elasticsearch.prepare(settings, archive, user, secrets)
            launcher = elasticsearch.start(settings, es_paths, user)
            echo(
                f"starting Elasticsearch {settings.elasticsearch_version} on 127.0.0.1:"
                f"{settings.stack_es_port} as {user.name} (log {es_paths.server_log})"
            )
        else:
            echo(f"Elasticsearch already running (pid {_es_pid(settings)})")
        _wait_healthy(settings, kafka_pid, launcher)
        if secrets is not None:
            acls.ensure_users(settings, secrets)
            acls.grant(settings)
            licence.check(settings, echo)
    echo(
        f"stack ready in {time.monotonic() - started:.0f}s: kafka 127.0.0.1:"
        f"{settings.stack_kafka_port}, elasticsearch http://127.0.0.1:{settings.stack_es_port}"
    )


def _wait_healthy(
    settings: Settings, kafka_pid: int, launcher: subprocess.Popen[bytes] | None
) -> None:
    kafka_paths = kafka.KafkaPaths.of(settings)
    es_paths = elasticsearch.ElasticsearchPaths.of(settings)
    deadline = time.monotonic() + settings.stack_start_timeout_s
    kafka_ok = es_ok = False
    while True:
        if not kafka_ok:
            if process.live_pid(kafka_paths.pid_file, kafka_paths.marker) != kafka_pid:
                raise StackError(
                    f"Kafka exited during start; read {log_file(settings, 'kafka')} "
                    f"and {kafka_paths.console}"
                )
            kafka_ok = kafka.healthy(settings)
        if not es_ok:
            if launcher is not None and launcher.poll() not in (None, 0):
                raise StackError(
                    f"Elasticsearch failed to start (exit {launcher.returncode}); read "
                    f"{es_paths.console} and {log_file(settings, 'elasticsearch')}"
                )
            es_ok = elasticsearch.health(settings) in ("green", "yellow")
        if kafka_ok and es_ok:
            return
        if time.monotonic() >= deadline:
            late = [name for name, ok in (("Kafka", kafka_ok), ("Elasticsearch", es_ok)) if not ok]
            logs = [
                str(log_file(settings, s))
                for s, ok in zip(SERVICES, (kafka_ok, es_ok), strict=True)
                if not ok
            ]
            raise StackError(
                f"{' and '.join(late)} not healthy within {settings.stack_start_timeout_s:.0f}s "
                f"(STACK_START_TIMEOUT_S); read {', '.join(logs)}"
            )
        time.sleep(1.0)


def down(settings: Settings, echo: Echo = _stderr) -> None:
    """Stop both services: SIGTERM, then SIGKILL after a grace period; no process is left."""
    kafka_paths = kafka.KafkaPaths.of(settings)
    es_paths = elasticsearch.ElasticsearchPaths.of(settings)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with process.locked(settings.state_dir / "stack.lock"):
        targets: list[int] = []
        for name, marker in (("Kafka", kafka_paths.marker), ("Elasticsearch", es_paths.marker)):
            pids = process.find_processes(marker)
            echo(
                f"stopping {name} (pid {', '.join(map(str, pids))})"
                if pids
                else f"{name} is not running"
            )
            targets += pids
        if targets:
            process.stop(
                targets, grace_s=STOP_GRACE_S, markers=[kafka_paths.marker, es_paths.marker]
            )
        kafka_paths.pid_file.unlink(missing_ok=True)
        es_paths.pid_file.unlink(missing_ok=True)
    echo("stack stopped")


def status(settings: Settings) -> list[ServiceStatus]:
    """Version, port, PID and health of each service, as they are right now."""
    kafka_pid = _kafka_pid(settings)
    kafka_ok = kafka_pid is not None and kafka.healthy(settings)
    es_pid = _es_pid(settings)
    es_health = elasticsearch.health(settings) if es_pid is not None else None
    root = elasticsearch.get(settings, "/") if es_health else None
    es_version = str(root["version"]["number"]) if root else settings.elasticsearch_version
    return [
        ServiceStatus(
            "kafka",
            settings.kafka_version,
            settings.stack_kafka_port,
            kafka_pid,
            kafka_ok,
            "ok" if kafka_ok else ("starting" if kafka_pid else "down"),
            str(log_file(settings, "kafka")),
        ),
        ServiceStatus(
            "elasticsearch",
            es_version,
            settings.stack_es_port,
            es_pid,
            es_health in ("green", "yellow"),
            es_health or ("starting" if es_pid else "down"),
            str(log_file(settings, "elasticsearch")),
        ),
    ]
