"""The `pipeline` console command: a thin front door over each package's own commands."""

from __future__ import annotations

import importlib

import click

# Each entry: "module:attribute" of a click command or group. The module owns its command.
COMMANDS: tuple[str, ...] = (
    "pipeline.cli.config:config",
    "pipeline.cli.run:run",
    "pipeline.cli.run:worker",
    "pipeline.cli.stack:stack",
    "pipeline.cli.topics:topics",
    "pipeline.cli.api:api",
    "pipeline.cli.api:search",
    "pipeline.cli.api:audit",
    "pipeline.cli.publish:publish",
    "pipeline.cli.publish:demo",
    "pipeline.cli.dlq:dlq",
    "pipeline.cli.lag:lag",
    "pipeline.cli.dedup:dedup",
    "pipeline.cli.entities:entities",
    "pipeline.cli.index:index",
    "pipeline.cli.index:reindex",
)

# The local-stack identity each command logs in as (pipeline.clients.use_identity); commands
# not named here (set-up, stack, topics, index, reindex, dedup eval) run as admin.
IDENTITIES: dict[str, str] = {
    "worker": "worker",
    # analysts' requests switch to `api` inside the API (pipeline.api.app)
    "api": "api-restricted",
    "search": "api-restricted",
    "audit": "operator",
    "publish": "operator",
    "demo": "operator",
    "dlq": "operator",
    "lag": "operator",
}


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="ct-intake-pipeline")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Ingest public counter-terrorism contributions from Kafka, enrich them, and index them
    into Elasticsearch for analysts.

    Settings come from the environment (see README, "Configuration"). With neither
    KAFKA_BOOTSTRAP_SERVERS nor ELASTICSEARCH_URL set, commands use the local stack
    that `pipeline stack up` starts.
    """
    from pipeline.clients import use_identity

    use_identity(IDENTITIES.get(ctx.invoked_subcommand or "", "admin"))


def _register() -> None:
    for spec in COMMANDS:
        module_name, attribute = spec.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        cli.add_command(command)


_register()


def main() -> None:
    """Console entry point: our own errors end as one clear line, not a traceback."""
    from pipeline.errors import PipelineError

    try:
        cli(prog_name="pipeline")
    except PipelineError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from exc
