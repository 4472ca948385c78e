"""BulkSink against a plain `elasticsearch.helpers.bulk` of the same documents, same node, same run.

    .venv/bin/python -m bench.sink --docs 10000 --rounds 3

Both write the same pre-built documents (built once with `build_document`, ~1.7 KB each)
with the same external versions (`version_type=external_gte`) and 500 actions per request,
each round into a fresh pair of indices with the project's mapping, taking turns (see
`one_round`). Prints docs/s per round, the medians and the ratio sink/helpers.
Indices are deleted at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from elasticsearch import Elasticsearch, helpers

from pipeline.clients import elasticsearch_client
from pipeline.enrich.mentions import Enrichment, EntityType, Mention
from pipeline.index.document import build_document, doc_id, doc_version
from pipeline.index.mapping import create_index, probe_text_analyzer
from pipeline.index.sink import BulkSink, IndexAction
from pipeline.ingest.report import Origin, Report, ReportLocation
from pipeline.ingest.sources import Source
from pipeline.settings import Settings

SENTENCE = (
    "the caller reported a man acting suspiciously near the station entrance carrying a "
    "large bag and photographing the security cameras before leaving in a silver car"
)


def build_actions(count: int) -> list[IndexAction]:
    """Realistic documents: ~150-word text, entities, mentions, location, restricted data."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    words = SENTENCE.split(" ")
    actions = []
    for n in range(count):
        text = " ".join(words[(n + i) % len(words)] for i in range(150)) + f" AB{n % 90:02d} CDE"
        report = Report(
            source=Source.PUBLIC_REPORT,
            source_id=f"bench-{n}",
            received_at=start + timedelta(seconds=n),
            text=text,
            location=ReportLocation(text="Leeds", postcode="LS1 4DY", lat=53.8, lon=-1.55),
            attributes={"channel": "online_form"},
            restricted={"reporter": {"name": "A Person", "email": "a@example.org"}},
            origin=Origin(
                topic="intake.public-reports",
                partition=n % 6,
                offset=n,
                timestamp_ms=1_772_353_800_000 + n,
            ),
        )
        end = len(text)
        mentions = [
            Mention(
                EntityType.VEHICLE, text[end - 8 :], text[end - 8 :].replace(" ", ""), end - 8, end
            ),
            Mention(EntityType.LOCATION, "station", "station", 44, 51),
        ]
        document = build_document(
            report,
            Enrichment.from_mentions(mentions, "North East"),
            None,
            ingested_at=datetime.now(UTC),
        )
        actions.append(
            IndexAction(doc_id(report.source, report.source_id), doc_version(report), document)
        )
    return actions


def run_sink(es: Elasticsearch, actions: list[IndexAction], index: str) -> tuple[float, float]:
    """Wall and client CPU seconds BulkSink takes to write `actions`."""
    sink = BulkSink(es, max_actions=500)
    started, cpu = time.perf_counter(), time.process_time()
    outcomes = sink.write(actions, index=index)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert all(o.status == "indexed" for o in outcomes), "sink: not every document indexed"
    return elapsed, cpu


def run_helpers(es: Elasticsearch, actions: list[IndexAction], index: str) -> tuple[float, float]:
    """Wall and client CPU seconds `helpers.bulk` takes to write the same actions."""

    def ops() -> Any:
        for action in actions:
            yield {
                "_op_type": "index",
                "_index": index,
                "_id": action.doc_id,
                "version": action.version,
                "version_type": "external_gte",
                "_source": action.document,
            }

    started, cpu = time.perf_counter(), time.process_time()
    ok, errors = helpers.bulk(es, ops(), chunk_size=500, max_chunk_bytes=5_000_000)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert ok == len(actions) and not errors, "helpers.bulk: not every document indexed"
    return elapsed, cpu


RUNNERS = {"BulkSink": run_sink, "helpers.bulk": run_helpers}


def one_round(
    es: Elasticsearch, settings: Settings, actions: list[IndexAction], prefix: str, slice_: int
) -> dict[str, tuple[float, float]]:
    """(docs/s, client CPU ms per 1000 docs) of each writer into its own fresh index.

    The node is shared and its load drifts within seconds, so the writers take turns slice by
    slice (who goes first alternates) and each writer's time is the sum over its slices: both
    see the same conditions, which one whole run after the other would not give.
    """
    analyzer = probe_text_analyzer(es)
    indices = {name: f"{prefix}-{name.lower().replace('.', '-')}" for name in RUNNERS}
    for index in indices.values():
        create_index(es, settings, index, analyzer)
    seconds = dict.fromkeys(RUNNERS, 0.0)
    cpu = dict.fromkeys(RUNNERS, 0.0)
    for turn, start in enumerate(range(0, len(actions), slice_)):
        names = list(RUNNERS) if turn % 2 == 0 else list(reversed(RUNNERS))
        for name in names:
            wall, used = RUNNERS[name](es, actions[start : start + slice_], indices[name])
            seconds[name] += wall
            cpu[name] += used
    es.indices.delete(index=",".join(indices.values()))
    per_k = 1000 * 1000 / len(actions)
    return {name: (len(actions) / seconds[name], cpu[name] * per_k) for name in RUNNERS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slice", type=int, default=2_000, help="documents per turn")
    args = parser.parse_args()

    settings = Settings()
    es = elasticsearch_client(settings, request_timeout=120)
    actions = build_actions(args.docs)
    size = sum(len(orjson.dumps(a.document)) for a in actions) / len(actions)
    print(
        f"{args.docs} documents (~{size / 1024:.1f} KB JSON), analyzer {probe_text_analyzer(es)}, "
        f"{args.rounds} rounds, turns of {args.slice}"
    )
    prefix = f"bench-sink-{uuid.uuid4().hex[:8]}"
    results: dict[str, list[float]] = {name: [] for name in RUNNERS}
    try:
        # unmeasured warm-up: connections, caches and the first index creation favour no one
        one_round(es, settings, actions[:1000], f"{prefix}-warmup", 500)
        for round_ in range(args.rounds):
            rates = one_round(es, settings, actions, f"{prefix}-{round_}", args.slice)
            for name, (rate, _) in rates.items():
                results[name].append(rate)
            line = ", ".join(
                f"{name} {rate:.0f} docs/s ({cpu_ms:.0f} ms client CPU/1000 docs)"
                for name, (rate, cpu_ms) in rates.items()
            )
            ratio = rates["BulkSink"][0] / rates["helpers.bulk"][0]
            print(f"round {round_ + 1}: {line}, ratio {ratio:.2f}x", flush=True)
    finally:
        es.options(ignore_status=404).indices.delete(index=f"{prefix}-*")
    sink_rate = statistics.median(results["BulkSink"])
    helper_rate = statistics.median(results["helpers.bulk"])
    print(
        f"median: BulkSink {sink_rate:.0f} docs/s, helpers.bulk {helper_rate:.0f} docs/s, "
        f"ratio {sink_rate / helper_rate:.2f}x (target >= 0.8x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
