"""`pipeline incidents …`: score incidents against the labelled set; read and correct them."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def incidents() -> None:
    """Incidents: reports that tell the same event in different words (incident_id)."""


@incidents.command("eval")
@click.option(
    "--labels",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Labelled JSONL (incident, id, source, received_at, text, url, location). "
    "Default: eval/incidents/labelled.jsonl.",
)
@click.option(
    "--threshold", type=float, default=None, help="Affinity a report needs to join an incident."
)
@click.option(
    "--sweep",
    is_flag=True,
    help="Also print precision and recall over thresholds 0.40-0.90 (how the default was read).",
)
@click.option("--show-pairs", is_flag=True, help="List wrongly joined and missed pairs.")
def evaluate(labels: Path | None, threshold: float | None, sweep: bool, show_pairs: bool) -> None:
    """Print pairwise precision and recall of incidents on a labelled set.

    The labelled reports go through the workers' models in order of arrival: the enricher,
    dedup, the sentence embedder and the incident rule with exact neighbours. Every pair of
    reports counts: labelled together and put in one incident is a true pair; joined but not
    labelled together is false; labelled together but split is missed. Targets: precision
    >= 0.90, recall >= 0.80.
    """
    from dataclasses import replace

    from pipeline.enrich.embed import Embedder
    from pipeline.enrich.extract import Enricher
    from pipeline.enrich.incidents.decide import IncidentParams
    from pipeline.enrich.incidents.evaluate import (
        DEFAULT_LABELS,
        describe,
        load_labelled,
        prepare,
        score,
    )
    from pipeline.enrich.incidents.evaluate import sweep as sweep_thresholds
    from pipeline.settings import get_settings

    settings = get_settings()
    params = IncidentParams(window_s=settings.incident_window_h * 3600.0)
    if threshold is not None:
        params = replace(params, threshold=threshold)
    click.echo("loading the models and reading the labelled set ...", err=True)
    prepared = prepare(load_labelled(labels or DEFAULT_LABELS), Enricher.load(), Embedder.load())
    result = score(prepared, params)
    for line in describe(result, params):
        click.echo(line)
    if sweep:
        click.echo("threshold  precision  recall  incidents")
        steps = [round(0.40 + 0.02 * i, 2) for i in range(26)]
        for value, scored in sweep_thresholds(prepared, steps, params):
            click.echo(
                f"{value:9.2f}  {scored.precision:9.3f}  {scored.recall:6.3f}  "
                f"{scored.found_clusters:9d}"
            )
    if show_pairs:
        for left, right in result.false_pairs:
            click.echo(f"false:  {left}  {right}")
        for left, right in result.missed_pairs:
            click.echo(f"missed: {left}  {right}")
