"""`pipeline dedup …`: measure the clustering against the labelled set."""

from __future__ import annotations

import uuid
from pathlib import Path

import click


@click.group()
def dedup() -> None:
    """Deduplication: which reports tell the same story (cluster_id, duplicate)."""


@dedup.command("eval")
@click.option(
    "--labels",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Labelled JSONL (cluster, source, id, text, url). Default: eval/clusters/labelled.jsonl.",
)
@click.option(
    "--batch-size", type=int, default=None, help="Reports per batch (PIPELINE_BATCH_SIZE)."
)
@click.option(
    "--elasticsearch",
    "use_es",
    is_flag=True,
    help="Run through the Elasticsearch-backed Deduplicator on a throw-away state index "
    "instead of in memory.",
)
@click.option("--show-pairs", is_flag=True, help="List wrongly joined and missed pairs.")
def evaluate(labels: Path | None, batch_size: int | None, use_es: bool, show_pairs: bool) -> None:
    """Print pairwise precision and recall of dedup clusters on a labelled set.

    Every pair of reports counts: a pair the labels put in one story and dedup put in one
    cluster is a true pair; joined but not labelled together is false; labelled together
    but split is missed. Thresholds come from PIPELINE_DEDUP_* settings.
    """
    from pipeline.enrich.dedup.evaluate import (
        DEFAULT_LABELS,
        describe,
        in_memory,
        load_labelled,
        score,
    )
    from pipeline.enrich.dedup.keys import DedupParams
    from pipeline.settings import get_settings

    settings = get_settings()
    labelled = load_labelled(labels or DEFAULT_LABELS)
    size = batch_size or settings.batch_size
    if use_es:
        from pipeline.clients import elasticsearch_client
        from pipeline.enrich.dedup.deduplicator import Deduplicator
        from pipeline.enrich.dedup.state import state_index

        scratch = settings.model_copy(update={"index_alias": f"dedup-eval-{uuid.uuid4().hex[:8]}"})
        es = elasticsearch_client(scratch)
        deduplicator = Deduplicator(es, scratch)
        deduplicator.ensure()
        try:
            result = score(labelled, deduplicator.assign, size)
        finally:
            index = state_index(scratch.index_alias)
            es.indices.delete(index=index, ignore_unavailable=True)
            es.indices.delete_index_template(name=index)
    else:
        result = score(labelled, in_memory(DedupParams.from_settings(settings)), size)
    for line in describe(result):
        click.echo(line)
    if show_pairs:
        for left, right in result.false_pairs:
            click.echo(f"false:  {left}  {right}")
        for left, right in result.missed_pairs:
            click.echo(f"missed: {left}  {right}")
