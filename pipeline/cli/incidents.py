"""`pipeline incidents …`: score incidents against the labelled set; read and correct them."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

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


@incidents.command("show")
@click.argument("incident_id")
@click.option("--json", "as_json", is_flag=True, help="Print the incident view as JSON.")
@click.option("--justification", required=True, help="Why you look (stored in the audit trail).")
def show(incident_id: str, as_json: bool, justification: str) -> None:
    """Show one incident through the search API: its reports on a timeline (oldest first),
    sources, regions and the entities its reports name, with counts and first and last seen.

    INCIDENT_ID is a report's `incident_id` (`pipeline search --fold incident` lists them).
    """
    from pipeline.api.models import IncidentView
    from pipeline.cli.api import call_api, render_incident, said_why

    why = said_why(justification)
    view = IncidentView.model_validate(
        call_api(f"/api/incidents/{quote(incident_id, safe='')}", [], why)
    )
    click.echo(view.model_dump_json(indent=2) if as_json else render_incident(view))


def _post(path: str, body: dict[str, str], justification: str) -> dict[str, object]:
    from pipeline.cli.api import api_client, said_why

    why = said_why(justification)
    with api_client() as client:
        return dict(client.post(path, body, justification=why))


def _said(correction: dict[str, object]) -> str:
    from pipeline.ingest.dlq import printable

    return printable(
        f"correction {correction['id']}: {correction['kind']} {correction['status']}"
        " (a worker applies it within seconds; `pipeline incidents corrections` shows when)",
        400,
    )


WHY = click.option("--justification", required=True, help="Why (stored in the audit trail).")


@incidents.command("merge")
@click.argument("incident_id")
@click.option("--into", "into", required=True, help="The incident it joins.")
@WHY
def merge(incident_id: str, into: str, justification: str) -> None:
    """Merge INCIDENT_ID into another incident: all its reports join it (undo reverses it)."""
    path = f"/api/incidents/{quote(incident_id, safe='')}/merge"
    click.echo(_said(_post(path, {"into": into}, justification)))


@incidents.command("move-out")
@click.argument("report_id")
@WHY
def move_out(report_id: str, justification: str) -> None:
    """Move a report (its id in the index), with its cluster, out of its incident."""
    path = f"/api/reports/{quote(report_id, safe='')}/move-out"
    click.echo(_said(_post(path, {}, justification)))


@incidents.command("undo")
@click.argument("correction_id")
@WHY
def undo(correction_id: str, justification: str) -> None:
    """Undo a merge or a move: the reports it moved go back."""
    path = f"/api/incident-corrections/{quote(correction_id, safe='')}/undo"
    click.echo(_said(_post(path, {}, justification)))


@incidents.command("corrections")
@click.option("--incident", help="Only corrections naming this incident.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def corrections(incident: str | None, limit: int, as_json: bool) -> None:
    """List incident corrections, newest first, with their status and outcome."""
    import json

    from pipeline.cli.api import call_api
    from pipeline.ingest.dlq import printable

    params = [("limit", str(limit))] + ([("incident", incident)] if incident else [])
    for item in call_api("/api/incident-corrections", params, None):
        if as_json:
            click.echo(printable(json.dumps(item, ensure_ascii=False), 10_000))
            continue
        target = item.get("into") or item.get("report") or item.get("undoes") or ""
        line = (
            f"{item['at'][:19]}  {item['id']}  {item['kind']:<5} {item['status']:<8} "
            f"{item['by']:<12} {item.get('incident') or '-'} -> {target}  "
            f"{item.get('outcome') or ''}  ({item['why']})"
        )
        click.echo(printable(line, 2000))
