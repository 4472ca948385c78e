"""`pipeline index ensure` and `pipeline reindex`: the index's command-line front door."""

from __future__ import annotations

import time
from collections.abc import Callable

import click


@click.group()
def index() -> None:
    """Manage the Elasticsearch index behind the `reports` alias (PIPELINE_INDEX_ALIAS)."""


@index.command()
def ensure() -> None:
    """Create the index template, the versioned index, the alias, the audit, watchlist and
    alerts indices if missing, and add new fields to existing ones (idempotent).

    An alias that exists already is left where it points. Prints the concrete index and
    the text analyzer in use (`english` on a full cluster, `standard` on the local node).
    """
    from pipeline.clients import elasticsearch_client
    from pipeline.index.mapping import ensure_index, probe_text_analyzer
    from pipeline.settings import get_settings

    settings = get_settings()
    es = elasticsearch_client(settings)
    name = ensure_index(es, settings)
    from pipeline.api.audit import AuditTrail, audit_index

    AuditTrail(es, audit_index(settings)).ensure()  # the API may only append to it
    from pipeline.enrich.watch.alerts import ensure_alerts_index
    from pipeline.enrich.watch.store import ensure_watch_index

    # the watchlist and alerts indices, with every field they have now (workers may only read
    # the watchlist, so an index older code made gets its new fields here)
    ensure_watch_index(es, settings.index_alias)
    ensure_alerts_index(es, settings.index_alias)
    mapping = es.indices.get_mapping(index=name)[name]["mappings"].get("_meta", {})
    click.echo(
        f"{settings.index_alias} -> {name} (mapping version {mapping.get('mapping_version')}, "
        f"text analyzer {mapping.get('text_analyzer')}; cluster offers {probe_text_analyzer(es)})"
    )


class _ProgressPrinter:
    """Prints `phase done/total` to stderr, at most once a second and at each phase's end."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if now - self._last < 1.0 and not finished:
            return
        self._last = now
        share = f"/{total} ({100 * done / total:.0f}%)" if total else ""
        click.echo(f"{phase}: {done}{share}", err=True)


@click.command()
@click.option(
    "--from",
    "origin",
    type=click.Choice(["index", "kafka"]),
    default="index",
    show_default=True,
    help="Copy the current index (scan + bulk), or replay the intake topics from the start.",
)
@click.option(
    "--mapping-version",
    type=click.IntRange(min=1),
    default=None,
    help="Version N of the new index `<alias>-v<N>`; default: one above the highest existing.",
)
@click.option(
    "--delete-old",
    is_flag=True,
    help="Delete the previous index after the swap (by default it is kept as the way back).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Documents per scan page, or records per replay batch.",
)
def reindex(origin: str, mapping_version: int | None, delete_old: bool, batch_size: int) -> None:
    """Build a new index version with this code's mapping and swap the alias to it.

    Searches keep working throughout: the alias moves in one atomic call once the new index
    is full, then a catch-up pass copies what arrived meanwhile. Documents keep their
    external versions, so running workers need not stop. `--from kafka` reprocesses every
    intake record (fresh enrichment) with a consumer group of its own.
    """
    from pipeline.errors import PipelineError

    try:
        _reindex(origin, mapping_version, delete_old, batch_size)
    except PipelineError as exc:
        raise click.ClickException(str(exc)) from exc


def _reindex(origin: str, mapping_version: int | None, delete_old: bool, batch_size: int) -> None:
    from pipeline.cli.progress import bars

    with bars() as shown:
        _reindex_with(origin, mapping_version, delete_old, batch_size, shown or _ProgressPrinter())


def _reindex_with(
    origin: str,
    mapping_version: int | None,
    delete_old: bool,
    batch_size: int,
    progress: Callable[[str, int, int | None], None],
) -> None:
    from pipeline.clients import elasticsearch_client
    from pipeline.settings import get_settings

    settings = get_settings()
    es = elasticsearch_client(settings)
    if origin == "index":
        from pipeline.index.reindex import reindex_from_index

        result = reindex_from_index(
            es,
            settings,
            version=mapping_version,
            delete_old=delete_old,
            progress=progress,
            page=batch_size,
        )
    else:
        from pipeline.flow.assemble import replay_processor
        from pipeline.ingest.sources import intake_topics
        from pipeline.worker.replay import reindex_from_kafka

        # the live batch path, so documents come out exactly as live ones do
        result = reindex_from_kafka(
            es,
            settings,
            replay_processor(settings, es),
            topics=list(intake_topics(settings.topic_prefix)),
            version=mapping_version,
            delete_old=delete_old,
            batch_size=batch_size,
            progress=progress,
        )
    kept = "deleted" if result.old_index_deleted else "kept"
    click.echo(
        f"{settings.index_alias} -> {result.new_index}: {result.copied} copied, "
        f"{result.caught_up} caught up, {result.rejected} not indexed; "
        f"old index {result.old_index or '(none)'} {kept if result.old_index else ''}".rstrip()
    )
