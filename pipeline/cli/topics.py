"""`pipeline topics ensure|list`: create and list the deployment's Kafka topics."""

from __future__ import annotations

import click

from pipeline.admin.topics import (
    DEFAULT_DLQ_PARTITIONS,
    admin_client,
    ensure_topics,
    existing_topics,
)
from pipeline.errors import PipelineError, map_kafka_errors
from pipeline.settings import get_settings


@click.group()
def topics() -> None:
    """Create and list the pipeline's Kafka topics (intake, intake.dlq and alerts)."""


@topics.command()
@click.option(
    "--partitions",
    type=click.IntRange(min=1),
    default=None,
    help="Partitions per intake topic [default: PIPELINE_INTAKE_PARTITIONS, 6].",
)
@click.option(
    "--dlq-partitions",
    type=click.IntRange(min=1),
    default=None,
    help=f"Partitions of intake.dlq [default: {DEFAULT_DLQ_PARTITIONS}].",
)
@click.option(
    "--retention-ms",
    type=int,
    default=None,
    help="Retention of intake topics in ms, -1 for ever "
    "[default: PIPELINE_INTAKE_RETENTION_MS, 30 days].",
)
@click.option(
    "--grant-acls",
    is_flag=True,
    help="On a configured cluster, also grant this deployment's ACLs to ct-worker, ct-api, "
    "ct-api-restricted and ct-operator, logged in as KAFKA_SASL_USERNAME (a super user). "
    "The local stack gets them anyway.",
)
def ensure(
    partitions: int | None, dlq_partitions: int | None, retention_ms: int | None, grant_acls: bool
) -> None:
    """Create the intake and dead-letter topics that do not exist yet (idempotent).

    Existing topics are never changed; a partition count that differs from the one asked
    for is reported, not fixed (Kafka can only add partitions, which reshuffles keys).
    """
    try:
        outcomes = ensure_topics(
            get_settings(),
            partitions=partitions,
            dlq_partitions=dlq_partitions,
            retention_ms=retention_ms,
            grant_acls=grant_acls,
        )
    except PipelineError as exc:
        raise click.ClickException(str(exc)) from exc
    for outcome in outcomes:
        click.echo(outcome.describe())


@topics.command(name="list")
@click.option("--all", "show_all", is_flag=True, help="Include Kafka's internal topics.")
def list_topics(show_all: bool) -> None:
    """List topics on the broker with their partition counts."""
    settings = get_settings()
    try:
        with map_kafka_errors("listing topics"):
            admin = admin_client(settings)
            try:
                found = existing_topics(admin)
            finally:
                admin.close()
    except PipelineError as exc:
        raise click.ClickException(str(exc)) from exc
    for name in sorted(found):
        if show_all or not name.startswith("__"):
            click.echo(f"{name}\t{found[name]}")
