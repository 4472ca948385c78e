"""The `pipeline` console command: a thin front door over each package's own commands."""

from __future__ import annotations

import importlib

import click

# The command groups, by who uses them: (name, "module:attribute" of its click command or
# group, the one line `pipeline --help` shows). Each module under pipeline/cli/ owns its commands.
SECTIONS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Run the pipeline": (
        ("run", "pipeline.cli.run:run", "Run the whole pipeline on this machine until stopped"),
        ("worker", "pipeline.cli.run:worker", "Run one stream worker (one per core)"),
        ("api", "pipeline.cli.api:api", "Serve the search API and the analysts' web page"),
        ("logs", "pipeline.cli.logs:logs", "Print or follow the log of one process of `run`"),
    ),
    "Analysts": (
        ("search", "pipeline.cli.api:search", "Search the reports through the search API"),
        (
            "watch",
            "pipeline.cli.watch:watch",
            "Add, list, change and remove your watchlist entries",
        ),
        (
            "alerts",
            "pipeline.cli.watch:alerts",
            "List, acknowledge and follow your watchlist alerts",
        ),
        ("audit", "pipeline.cli.api:audit", "List the audit trail (auditors and operators)"),
    ),
    "Operators": (
        ("lag", "pipeline.cli.lag:lag", "Show consumer lag per group and partition"),
        ("dlq", "pipeline.cli.dlq:dlq", "List, show and replay dead-letter records"),
        ("publish", "pipeline.cli.publish:publish", "Validate and publish a JSON-lines file"),
        ("reindex", "pipeline.cli.index:reindex", "Rebuild the index into a new version"),
        ("erase", "pipeline.cli.erase:erase", "Erase reports for good, whatever is replayed"),
        (
            "retention",
            "pipeline.cli.retention:retention",
            "List reports due for review and record review decisions",
        ),
    ),
    "Set up": (
        ("topics", "pipeline.cli.topics:topics", "Create and list the Kafka topics"),
        ("index", "pipeline.cli.index:index", "Create and inspect the Elasticsearch index"),
        ("config", "pipeline.cli.config:config", "Show the settings read from the environment"),
    ),
    "Develop and evaluate": (
        ("stack", "pipeline.cli.stack:stack", "Run the local Kafka and Elasticsearch"),
        ("demo", "pipeline.cli.publish:demo", "Publish a realistic mixed demo stream"),
        ("entities", "pipeline.cli.entities:entities", "Extract entities and score extraction"),
        ("dedup", "pipeline.cli.dedup:dedup", "Score deduplication on labelled pairs"),
        ("incidents", "pipeline.cli.incidents:incidents", "Score incidents; show and correct them"),
    ),
}


class _Sections(click.Group):
    """Lists the commands under their section headings, in the order of SECTIONS."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for entries in SECTIONS.values() for name, _, _ in entries]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        width = max(len(name) for name in self.list_commands(ctx))
        for section, entries in SECTIONS.items():
            with formatter.section(section):
                formatter.write_dl([(name.ljust(width), line) for name, _, line in entries])


# The local-stack identity each command logs in as (pipeline.clients.use_identity); commands
# not named here (set-up, stack, topics, index, reindex, dedup eval) run as admin.
IDENTITIES: dict[str, str] = {
    "worker": "worker",
    # analysts' requests switch to `api` inside the API (pipeline.api.app)
    "api": "api-restricted",
    "search": "api-restricted",
    # clients of the API, like `search`: they reach neither Kafka nor Elasticsearch themselves
    "watch": "api",
    "alerts": "api",
    "incidents": "api",  # `incidents eval` reads no cluster at all
    "audit": "operator",
    "publish": "operator",
    "demo": "operator",
    "dlq": "operator",
    "lag": "operator",
}


@click.group(
    cls=_Sections,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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
    for entries in SECTIONS.values():
        for name, spec, line in entries:
            module_name, attribute = spec.split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            if command.name != name:
                raise RuntimeError(f"{spec} is named {command.name!r}, listed as {name!r}")
            command.short_help = line
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
