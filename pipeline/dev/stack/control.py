"""`up`, `down` and `status` of the local stack: one Kafka broker and one Elasticsearch node,
or (STACK_KAFKA_BROKERS, STACK_ES_NODES) a KRaft cluster and an Elasticsearch cluster."""

from __future__ import annotations

import re
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
    """What `stack status` reports about one node: `kafka`/`elasticsearch` on a single-node
    stack, `kafka-<n>`/`elasticsearch-<n>` in a cluster."""

    name: str
    version: str
    port: int
    pid: int | None
    healthy: bool
    health: str
    log: str
    role: str = ""


@dataclass(frozen=True)
class Topology:
    """How many Kafka and Elasticsearch nodes a state dir holds (0: none made yet)."""

    kafka_brokers: int
    es_nodes: int


def _numbered(state_dir: Path, service: str) -> list[int]:
    pattern = re.compile(rf"{service}-([0-9]+)")
    found = (pattern.fullmatch(p.name) for p in state_dir.glob(f"{service}-*") if p.is_dir())
    return sorted(int(m.group(1)) for m in found if m)


def existing_topology(settings: Settings) -> Topology:
    """What the state dir was made for, from the node directories in it."""
    state = settings.state_dir
    kafka_nodes = _numbered(state, "kafka") if state.exists() else []
    es_nodes = _numbered(state, "elasticsearch") if state.exists() else []
    return Topology(
        len(kafka_nodes) or int((state / "kafka" / "data" / "meta.properties").exists()),
        len(es_nodes) or int((state / "elasticsearch" / "home").exists()),
    )


def with_topology(settings: Settings) -> Settings:
    """`settings` sized as the state dir's stack (for `status`, `down`, `logs`), else as set."""
    found = existing_topology(settings)
    update = {}
    if found.kafka_brokers:
        update["stack_kafka_brokers"] = found.kafka_brokers
    if found.es_nodes:
        update["stack_es_nodes"] = found.es_nodes
    return settings.model_copy(update=update) if update else settings


def _check_topology(settings: Settings) -> None:
    found = existing_topology(settings)
    asked = Topology(settings.stack_kafka_brokers, settings.stack_es_nodes)
    for what, have, want in (
        ("Kafka brokers", found.kafka_brokers, asked.kafka_brokers),
        ("Elasticsearch nodes", found.es_nodes, asked.es_nodes),
    ):
        if have and have != want:
            raise StackError(
                f"{settings.state_dir} holds a stack of {have} {what}, not {want}; a stack "
                "cannot change size: give the cluster its own PIPELINE_STATE_DIR and ports "
                "(STACK_KAFKA_PORT, STACK_KAFKA_CONTROLLER_PORT, STACK_ES_PORT), or pass "
                f"the size it was made with (--kafka-brokers {found.kafka_brokers} "
                f"--es-nodes {found.es_nodes})"
            )


def _node_of(service: str) -> tuple[str, int]:
    name, _, number = service.partition("-")
    if name not in SERVICES or (number and not number.isdigit()):
        raise StackError(
            f"unknown service {service!r}; expected one of {', '.join(SERVICES)} "
            "(or kafka-<n>, elasticsearch-<n> in a cluster)"
        )
    return name, int(number or 1)


def service_name(settings: Settings, service: str, node: int) -> str:
    """`kafka` on a single-node stack, `kafka-2` for a cluster's second node."""
    count = settings.stack_kafka_brokers if service == "kafka" else settings.stack_es_nodes
    return service if count == 1 else f"{service}-{node}"


def label(settings: Settings, service: str, node: int) -> str:
    """How messages name a node: `Kafka`/`Elasticsearch` alone, `kafka-2` in a cluster."""
    name = service_name(settings, service, node)
    return {"kafka": "Kafka", "elasticsearch": "Elasticsearch"}.get(name, name)


def log_file(settings: Settings, service: str) -> Path:
    """The main log of a node (`kafka`, `elasticsearch`, `kafka-2` ...), or its console output
    before logging starts."""
    settings = with_topology(settings)
    name, node = _node_of(service)
    if name == "kafka":
        paths_k = kafka.KafkaPaths.of(settings, node)
        return paths_k.server_log if paths_k.server_log.exists() else paths_k.console
    paths_e = elasticsearch.ElasticsearchPaths.of(settings, node)
    return paths_e.server_log if paths_e.server_log.exists() else paths_e.console


def _kafka_pid(settings: Settings, node: int = kafka.NODE_ID) -> int | None:
    paths = kafka.KafkaPaths.of(settings, node)
    return process.live_pid(paths.pid_file, paths.marker)


def _es_pid(settings: Settings, node: int = elasticsearch.NODE) -> int | None:
    paths = elasticsearch.ElasticsearchPaths.of(settings, node)
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


def all_ports(settings: Settings) -> dict[int, str]:
    """Every port the stack listens on, and who; StackError when two nodes would share one."""
    wanted: list[tuple[int, str]] = []
    for node in kafka.node_ids(settings):
        name = service_name(settings, "kafka", node)
        wanted.append((kafka.broker_port(settings, node), name))
        wanted.append((kafka.controller_port(settings, node), f"{name}'s controller"))
    for node in elasticsearch.node_numbers(settings):
        name = service_name(settings, "elasticsearch", node)
        wanted.append((elasticsearch.http_port(settings, node), name))
        if settings.stack_es_nodes > 1:
            wanted.append((elasticsearch.transport_port(settings, node), f"{name}'s transport"))
    ports: dict[int, str] = {}
    for port, who in wanted:
        if port in ports:
            raise StackError(
                f"port {port} would serve both {ports[port]} and {who}; a cluster's node n "
                "uses STACK_KAFKA_PORT + 2(n-1), STACK_KAFKA_CONTROLLER_PORT + 2(n-1), "
                "STACK_ES_PORT + n-1 and STACK_ES_PORT + 100 + n-1: choose ports further apart"
            )
        ports[port] = who
    return ports


def _has_data(settings: Settings) -> bool:
    for node in kafka.node_ids(settings):
        if (kafka.KafkaPaths.of(settings, node).data / "meta.properties").exists():
            return True
    for node in elasticsearch.node_numbers(settings):
        es_data = elasticsearch.ElasticsearchPaths.of(settings, node).data
        if es_data.exists() and any(es_data.iterdir()):
            return True
    return False


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
    """Start whatever is not running, then wait until every node is healthy.

    A new stack gets users, roles and ACLs (README, "Security"); `secure` switches them on
    for a stopped stack created before they existed. Idempotent: running nodes are reused
    untouched. Raises StackError naming the log file when a node dies or is not healthy
    within `settings.stack_start_timeout_s`, and when the state dir holds a stack of another
    size.
    """
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    settings.state_dir.chmod(0o755)
    started = time.monotonic()
    with process.locked(settings.state_dir / "stack.lock"):
        _check_topology(settings)
        all_ports(settings)
        kafka_pids = {n: _kafka_pid(settings, n) for n in kafka.node_ids(settings)}
        es_pids = {n: _es_pid(settings, n) for n in elasticsearch.node_numbers(settings)}
        running = any(pid is not None for pid in [*kafka_pids.values(), *es_pids.values()])
        secrets = _credentials(settings, secure, running, echo)
        started_kafka = _start_kafka(settings, kafka_pids, secrets, echo)
        launchers = _start_elasticsearch(settings, es_pids, secrets, echo)
        _wait_healthy(settings, started_kafka, launchers)
        if secrets is not None:
            acls.ensure_users(settings, secrets)
            acls.grant(settings)
            licence.check(settings, echo)
    kafka_at = ",".join(str(p) for p in settings.stack_kafka_ports)
    es_at = ",".join(
        str(elasticsearch.http_port(settings, n)) for n in elasticsearch.node_numbers(settings)
    )
    echo(
        f"stack ready in {time.monotonic() - started:.0f}s: kafka 127.0.0.1:{kafka_at}, "
        f"elasticsearch http://127.0.0.1:{es_at}"
    )


def _start_kafka(
    settings: Settings,
    pids: dict[int, int | None],
    secrets: credentials.StackCredentials | None,
    echo: Echo,
) -> dict[int, int]:
    """Start the Kafka nodes that are not running; every node's PID."""
    classpath: str | None = None
    result: dict[int, int] = {}
    for node, pid in pids.items():
        name = label(settings, "kafka", node)
        if pid is not None:
            echo(f"{name} already running (pid {pid})")
            result[node] = pid
            continue
        paths = kafka.KafkaPaths.of(settings, node)
        _clear_strays(paths.marker, name, echo)
        _refuse_busy(kafka.broker_port(settings, node), name, echo)
        controller = "the Kafka controller" if name == "Kafka" else f"{name}'s controller"
        _refuse_busy(kafka.controller_port(settings, node), controller, echo)
        classpath = classpath or artifacts.kafka_classpath(settings, echo)
        kafka.prepare(settings, classpath, secrets, node)
        result[node] = kafka.start(settings, classpath, paths)
        what = f"Kafka {settings.kafka_version}" + ("" if name == "Kafka" else f" ({name})")
        echo(
            f"starting {what} on 127.0.0.1:"
            f"{kafka.broker_port(settings, node)} (pid {result[node]}, log {paths.server_log})"
        )
    return result


def _start_elasticsearch(
    settings: Settings,
    pids: dict[int, int | None],
    secrets: credentials.StackCredentials | None,
    echo: Echo,
) -> dict[int, subprocess.Popen[bytes]]:
    """Start the Elasticsearch nodes that are not running; the launchers of those started."""
    launchers: dict[int, subprocess.Popen[bytes]] = {}
    for node, pid in pids.items():
        name = label(settings, "elasticsearch", node)
        if pid is not None:
            echo(f"{name} already running (pid {pid})")
            continue
        paths = elasticsearch.ElasticsearchPaths.of(settings, node)
        _clear_strays(paths.marker, name, echo)
        _refuse_busy(elasticsearch.http_port(settings, node), name, echo)
        if settings.stack_es_nodes > 1:
            port = elasticsearch.transport_port(settings, node)
            _refuse_busy(port, f"{name}'s transport", echo)
        archive = artifacts.elasticsearch_zip(settings, echo)
        user = process.service_user(settings.stack_user)
        elasticsearch.prepare(settings, archive, user, secrets, node)
        launchers[node] = elasticsearch.start(settings, paths, user)
        what = f"Elasticsearch {settings.elasticsearch_version}" + (
            "" if name == "Elasticsearch" else f" ({name})"
        )
        echo(
            f"starting {what} on 127.0.0.1:"
            f"{elasticsearch.http_port(settings, node)} as {user.name} (log {paths.server_log})"
        )
    return launchers


def _wait_healthy(
    settings: Settings,
    kafka_pids: dict[int, int],
    launchers: dict[int, subprocess.Popen[bytes]],
) -> None:
    deadline = time.monotonic() + settings.stack_start_timeout_s
    kafka_late = set(kafka_pids)
    # A JVM that is exec'ing (the java launcher may re-exec itself) shows no command line for
    # a moment on a loaded machine: gone twice in a row, a second apart, is gone.
    missing: set[int] = set()
    es_ok = False
    while True:
        for node in sorted(kafka_late):
            paths = kafka.KafkaPaths.of(settings, node)
            name = service_name(settings, "kafka", node)
            if process.live_pid(paths.pid_file, paths.marker) == kafka_pids[node]:
                missing.discard(node)
            elif node not in missing:
                missing.add(node)
                continue
            else:
                raise StackError(
                    f"{label(settings, 'kafka', node)} exited during start; read "
                    f"{log_file(settings, name)} "
                    f"and {paths.console}"
                )
            if kafka.healthy(settings, node):
                kafka_late.discard(node)
        if not es_ok:
            for node, launcher in launchers.items():
                if launcher.poll() not in (None, 0):
                    name = service_name(settings, "elasticsearch", node)
                    paths_e = elasticsearch.ElasticsearchPaths.of(settings, node)
                    raise StackError(
                        f"{label(settings, 'elasticsearch', node)} failed to start "
                        f"(exit {launcher.returncode}); read "
                        f"{paths_e.console} and {log_file(settings, name)}"
                    )
            es_ok = elasticsearch.formed(settings)
        if not kafka_late and es_ok:
            return
        if time.monotonic() >= deadline:
            late = [("kafka", n) for n in sorted(kafka_late)]
            if not es_ok:
                late += [("elasticsearch", n) for n in elasticsearch.node_numbers(settings)]
            logs = ", ".join(str(log_file(settings, service_name(settings, s, n))) for s, n in late)
            names = [label(settings, s, n) for s, n in late]
            raise StackError(
                f"{' and '.join(names)} not healthy within {settings.stack_start_timeout_s:.0f}s "
                f"(STACK_START_TIMEOUT_S); read {logs}"
            )
        time.sleep(1.0)


def _markers(settings: Settings) -> list[tuple[str, str, Path]]:
    """(name, marker, PID file) of every node this state dir holds or the settings name."""
    rows = []
    for node in kafka.node_ids(settings):
        paths_k = kafka.KafkaPaths.of(settings, node)
        rows.append((label(settings, "kafka", node), paths_k.marker, paths_k.pid_file))
    for node in elasticsearch.node_numbers(settings):
        paths_e = elasticsearch.ElasticsearchPaths.of(settings, node)
        name = label(settings, "elasticsearch", node)
        rows.append((name, paths_e.marker, paths_e.pid_file))
    return rows


def down(settings: Settings, echo: Echo = _stderr) -> None:
    """Stop every node: SIGTERM, then SIGKILL after a grace period; no process is left."""
    settings = with_topology(settings)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with process.locked(settings.state_dir / "stack.lock"):
        nodes = _markers(settings)
        targets: list[int] = []
        for name, marker, _ in nodes:
            pids = process.find_processes(marker)
            echo(
                f"stopping {name} (pid {', '.join(map(str, pids))})"
                if pids
                else f"{name} is not running"
            )
            targets += pids
        if targets:
            process.stop(targets, grace_s=STOP_GRACE_S, markers=[marker for _, marker, _ in nodes])
        for _, _, pid_file in nodes:
            pid_file.unlink(missing_ok=True)
    echo("stack stopped")


def status(settings: Settings) -> list[ServiceStatus]:
    """Version, port, PID, role and health of each node, as they are right now."""
    settings = with_topology(settings)
    return [*_kafka_status(settings), *_es_status(settings)]


def _kafka_status(settings: Settings) -> list[ServiceStatus]:
    rows = []
    pids = {node: _kafka_pid(settings, node) for node in kafka.node_ids(settings)}
    leader = kafka.quorum_leader(settings) if any(pids.values()) else None
    for node, pid in pids.items():
        ok = pid is not None and kafka.healthy(settings, node)
        name = service_name(settings, "kafka", node)
        role = "broker,controller" + (" (active controller)" if leader == node else "")
        rows.append(
            ServiceStatus(
                name,
                settings.kafka_version,
                kafka.broker_port(settings, node),
                pid,
                ok,
                "ok" if ok else ("starting" if pid else "down"),
                str(log_file(settings, name)),
                role,
            )
        )
    return rows


def _es_status(settings: Settings) -> list[ServiceStatus]:
    rows = []
    for node in elasticsearch.node_numbers(settings):
        pid = _es_pid(settings, node)
        es_health = elasticsearch.health(settings, node) if pid is not None else None
        root = elasticsearch.get(settings, "/", node=node) if es_health else None
        version = str(root["version"]["number"]) if root else settings.elasticsearch_version
        name = service_name(settings, "elasticsearch", node)
        rows.append(
            ServiceStatus(
                name,
                version,
                elasticsearch.http_port(settings, node),
                pid,
                es_health in ("green", "yellow"),
                es_health or ("starting" if pid else "down"),
                str(log_file(settings, name)),
                elasticsearch.node_role(settings, node) if es_health else "",
            )
        )
    return rows
