"""`pipeline stack up | down | status | logs`: the local Kafka + Elasticsearch stack."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from pathlib import Path

import click

from pipeline.dev.stack import control, process
from pipeline.errors import StackError
from pipeline.settings import Settings, get_settings


def _echo(message: str) -> None:
    click.echo(f"stack: {message}", err=True)


@click.group()
def stack() -> None:
    """Run a local Kafka broker and Elasticsearch node (or clusters) for development and tests.

    Both come from Maven Central (Maven must be installed; a JDK 17+ runs them), are cached
    under PIPELINE_CACHE_DIR (~/.cache/ct-pipeline) and keep data, logs and PID files under
    PIPELINE_STATE_DIR (~/.local/state/ct-pipeline; as root /var/lib/ct-pipeline, and
    Elasticsearch, which refuses root, runs as the system user STACK_USER).
    Ports: STACK_KAFKA_PORT (19092), STACK_KAFKA_CONTROLLER_PORT (19093), STACK_ES_PORT (19200).
    A cluster (`up --kafka-brokers 3 --es-nodes 3`, or STACK_KAFKA_BROKERS/STACK_ES_NODES)
    needs its own PIPELINE_STATE_DIR and ports: node n takes STACK_KAFKA_PORT + 2(n-1),
    STACK_KAFKA_CONTROLLER_PORT + 2(n-1), STACK_ES_PORT + n-1 and, for transport, + 100.
    """


def _sized(kafka_brokers: int | None, es_nodes: int | None) -> Settings:
    settings = get_settings()
    update: dict[str, int] = {}
    if kafka_brokers is not None:
        update["stack_kafka_brokers"] = kafka_brokers
    if es_nodes is not None:
        update["stack_es_nodes"] = es_nodes
    return settings.model_copy(update=update) if update else settings


@stack.command()
@click.option(
    "--secure",
    is_flag=True,
    help="Switch users, roles and ACLs on for a stopped stack created before they existed.",
)
@click.option(
    "--kafka-brokers",
    type=click.IntRange(min=1),
    default=None,
    help="KRaft nodes, each broker and controller (STACK_KAFKA_BROKERS, default 1).",
)
@click.option(
    "--es-nodes",
    type=click.IntRange(min=1),
    default=None,
    help="Elasticsearch nodes, each master-eligible and data (STACK_ES_NODES, default 1).",
)
def up(secure: bool, kafka_brokers: int | None, es_nodes: int | None) -> None:
    """Start Kafka and Elasticsearch (reusing what runs) and wait until every node is healthy.

    A new stack has users, roles and ACLs, with random passwords kept in
    PIPELINE_STATE_DIR/credentials.json (mode 0600). The first run downloads about 250 MB;
    later runs need no network. A state dir keeps the size it was made with.
    """
    try:
        control.up(_sized(kafka_brokers, es_nodes), _echo, secure=secure)
    except StackError as exc:
        raise click.ClickException(str(exc)) from exc


@stack.command("compose-secrets")
@click.argument("directory", type=click.Path(path_type=Path), default="compose-secrets")
def compose_secrets(directory: Path) -> None:
    """Make passwords and Elasticsearch's users and roles for docker compose, once.

    Then: docker compose --env-file DIRECTORY/compose.env up -d --build
    """
    from pipeline.dev.stack.containers import write_compose_secrets

    env_file = write_compose_secrets(directory)
    click.echo(f"docker compose --env-file {env_file} up -d --build")


@stack.command()
def down() -> None:
    """Stop every node (SIGTERM, then SIGKILL after 30 s). Data is kept."""
    try:
        control.down(get_settings(), _echo)
    except StackError as exc:
        raise click.ClickException(str(exc)) from exc


@stack.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def status(as_json: bool) -> None:
    """Show version, port, PID, role, health and log file of each node.

    Exits 0 when every node is healthy, 1 otherwise. Health is the cluster's colour as the
    node sees it.
    """
    settings = get_settings()
    services = control.status(settings)
    if as_json:
        body = {
            "state_dir": str(settings.state_dir),
            "services": {s.name: dataclasses.asdict(s) for s in services},
        }
        click.echo(json.dumps(body, indent=2))
    else:
        click.echo(f"state dir: {settings.state_dir}")
        for s in services:
            role = f"{s.role:<38} " if any(x.role for x in services) else ""
            click.echo(
                f"{s.name:<16} {s.version:<8} 127.0.0.1:{s.port:<6} "
                f"pid {s.pid if s.pid is not None else '-':<8} {s.health:<8} {role}{s.log}"
            )
    if not all(s.healthy for s in services):
        raise SystemExit(1)


@stack.command()
@click.argument("service", default="kafka")
@click.option("-n", "--lines", default=50, show_default=True, help="Lines to show.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (Ctrl-C to stop).")
def logs(service: str, lines: int, follow: bool) -> None:
    """Print the end of a node's log (SERVICE: kafka or elasticsearch; kafka-<n> or
    elasticsearch-<n> in a cluster)."""
    try:
        path = control.log_file(get_settings(), service)
    except StackError as exc:
        raise click.ClickException(str(exc)) from exc
    if not path.exists():
        raise click.ClickException(f"no log yet at {path}; has `pipeline stack up` run?")
    if follow and shutil.which("tail"):
        # tail -F survives log rotation, which a Python loop would have to reimplement.
        os.execvp("tail", ["tail", "-n", str(lines), "-F", str(path)])  # noqa: S606
    for line in process.tail(path, lines):
        click.echo(line)
    if follow:
        with path.open() as handle:
            handle.seek(0, os.SEEK_END)
            while True:
                line = handle.readline()
                if line:
                    click.echo(line, nl=False)
                else:
                    time.sleep(0.5)
