"""Where watch matching runs, side by side: in memory or in Elasticsearch, and saved searches.

Run: .venv/bin/python -m bench.watch_choices [--batches 20] [--batch 100] [--corpus 2000]
                                             [--selectors 1000,10000] [--searches 10,100]

1. Selector and name entries (bench/alerts.py's: `--hot` on values the reports hold, the rest
   on values none does), matched two ways over the same reports: (a) the worker's in-memory
   `Watchlist`, and (b) the same entries as one `filters` aggregation per batch of `--batch`
   reports, sent to the real node (a `term` on `entities.<type>` per selector, an all-words
   match on the name fields per name, `top_hits` naming the reports), against a fresh index of
   `--corpus` real report documents (`build_document`). Cost per report, wall time: the median
   batch over `--batch`, and the best of `--reps` passes over the corpus in memory.
2. Saved searches (`BatchSearches`, the worker's own code) for each count in `--searches`: per
   batch of `--batch` reports just bulk-indexed, with its refresh, and without it (the batch
   refreshed beforehand, untimed; the refresh alone is timed then). The index never refreshes
   on its own (`refresh_interval: -1`), so each refresh makes exactly one batch searchable.

Everything runs in one process against one fresh alias (`bench-watch-<8 hex>`, deleted after),
the two ways taking turns batch by batch: on this shared machine, trust the ratios.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bench.alerts import enrichment, filler_targets, hot_targets, watchlist
from bench.common import CpuMeter, format_table, progress, stack_pids, unique_name
from bench.enrich import FIRST, LAST, ORGS, PLACES, make_text
from pipeline.clients import elasticsearch_client
from pipeline.enrich.mentions import Enrichment, EntityType
from pipeline.enrich.regions import REGIONS
from pipeline.enrich.watch import SavedSearch, WatchEntry, Watchlist
from pipeline.enrich.watch.entries import NAME_TYPES
from pipeline.enrich.watch.searches import BatchSearches
from pipeline.index.document import build_document, doc_id
from pipeline.index.mapping import ensure_index
from pipeline.ingest.report import Origin, Report
from pipeline.ingest.sources import TOPIC_BY_SOURCE, Source
from pipeline.settings import Settings

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

NOW = datetime.now(UTC)
# Words of the generator's sentences (bench/enrich.py), for saved searches that find something.
_TOPICS = [
    "rucksack unattended", "silver hatchback", "chemicals", "march Saturday", '"dark jacket"',
    "leaflet estate", "neighbour chemicals", "station suspiciously", "cash delivered",
    "videos handle", "lost his job", "terraced house", '"crime reference"', "nervous cap",
]  # fmt: skip
_NOTHING = ["submarine", "periscope harbour", '"glider club"', "tunnel boring", "canal lock"]


class Corpus:
    """Generated reports as the index step writes them, with their enrichments."""

    def __init__(self, seed: int = 7) -> None:
        self._rng = random.Random(seed)
        self._made = 0

    def take(self, n: int) -> list[tuple[str, Enrichment, dict[str, Any]]]:
        """`n` new reports: (`_id`, enrichment, document)."""
        made: list[tuple[str, Enrichment, dict[str, Any]]] = []
        for _ in range(n):
            source = list(Source)[self._made % len(Source)]
            report = Report(
                source=source,
                source_id=f"bench-{self._made}",
                received_at=NOW,
                text=make_text(self._rng),
                origin=Origin(topic=TOPIC_BY_SOURCE[source], partition=0, offset=self._made),
            )
            found = enrichment(report.text)
            enriched = Enrichment.from_mentions(list(found.mentions), self._rng.choice(REGIONS))
            document = build_document(report, enriched, None, ingested_at=NOW)
            made.append((doc_id(source.value, report.source_id), enriched, document))
            self._made += 1
        return made


def bulk(es: Elasticsearch, alias: str, reports: Sequence[tuple[str, Any, dict[str, Any]]]) -> None:
    """Index the reports as one bulk request, unrefreshed."""
    lines: list[dict[str, Any]] = []
    for report_id, _, document in reports:
        lines += [{"index": {"_index": alias, "_id": report_id}}, document]
    answer = es.bulk(operations=lines, filter_path="errors")
    if answer["errors"]:
        raise RuntimeError("bulk indexing failed")


def selector_filter(entry: WatchEntry) -> dict[str, Any]:
    """The entry as an Elasticsearch filter on the indexed entities."""
    kind, key = entry.key
    if kind in NAME_TYPES:
        # A name of either type holding the key's words side by side, in any order (a longer
        # name holding them too matches, unlike in memory); the index folds case, not accents.
        words = {"match": {"query": key, "ordered": False, "max_gaps": 0}}
        names = [f"entities.{t.value}.text" for t in (EntityType.PERSON, EntityType.ORG)]
        return {"bool": {"should": [{"intervals": {name: words}} for name in names]}}
    return {"term": {f"entities.{kind.value}": key}}


def selectors_body(filters: dict[str, Any], report_ids: list[str]) -> dict[str, Any]:
    return {
        "query": {"ids": {"values": report_ids}},
        "size": 0,
        "aggs": {
            "entries": {
                "filters": {"filters": filters},
                "aggs": {"reports": {"top_hits": {"size": len(report_ids), "_source": False}}},
            }
        },
    }


def in_memory_us(watched: Watchlist, enrichments: list[Enrichment], reps: int) -> tuple[float, int]:
    """CPU µs per report of `Watchlist.match` (best pass), and the (report, entry) pairs found."""
    best = float("inf")
    for _ in range(reps):
        start = time.process_time()
        for enriched in enrichments:
            watched.match(enriched, NOW)
        best = min(best, time.process_time() - start)
    # a report naming a target twice is one (report, entry) pair, as in the aggregation
    found = sum(len({m.entry.id for m in watched.match(e, NOW)}) for e in enrichments)
    return best / len(enrichments) * 1e6, found


class Meter:
    """Wall seconds and CPU seconds (this process plus the Elasticsearch node) per call."""

    def __init__(self, es_pid: int | None) -> None:
        self._pids = {"bench": [os.getpid()], **({"es": [es_pid]} if es_pid else {})}
        self.walls: list[float] = []
        self.cpus: list[float] = []

    def __call__(self, call: Callable[[], Any]) -> Any:
        meter = CpuMeter(self._pids)
        start = time.perf_counter()
        result = call()
        self.walls.append(time.perf_counter() - start)
        used = meter.stop()
        self.cpus.append(used["bench"] + used.get("es", float("nan")))
        return result

    def wall_ms(self) -> float:
        """The median call's wall time, ms."""
        return statistics.median(self.walls) * 1000

    def cpu_ms(self) -> float:
        """The mean call's CPU time, ms (CPU is counted in clock ticks: a median would round)."""
        return statistics.fmean(self.cpus) * 1000


def in_elasticsearch(
    es: Elasticsearch, alias: str, entries: list[WatchEntry], batches: list[list[str]], meter: Meter
) -> int:
    """Time the filters aggregation batch by batch; the (report, entry) pairs found."""
    filters = {str(n): selector_filter(entry) for n, entry in enumerate(entries)}
    path = "aggregations.entries.buckets.*.reports.hits.hits._id"
    found = 0
    es.search(index=alias, body=selectors_body(filters, batches[0]), filter_path=path)  # warm up
    for ids in batches:
        answer = meter(
            lambda ids=ids: es.search(
                index=alias,
                body=selectors_body(filters, ids),
                filter_path=path,
                request_cache=False,
            )
        )
        buckets = answer.body.get("aggregations", {}).get("entries", {}).get("buckets", {})
        found += sum(len(b["reports"]["hits"]["hits"]) for b in buckets.values())
    return found


def _broad(rng: random.Random, i: int) -> str:
    """A query the generator's repetitive sentences often satisfy (a worst case)."""
    pick = i % 5
    if pick == 0:
        return rng.choice(_TOPICS)
    if pick == 1:
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    if pick == 2:
        return f"{rng.choice(PLACES)} {rng.choice(_TOPICS).split()[0]}"
    if pick == 3:
        return f'"{rng.choice(ORGS)}" | {rng.choice(_TOPICS)}'
    return rng.choice(_NOTHING)


def _narrow(rng: random.Random, i: int) -> str:
    """A query as an analyst writes one: a phrase and context, seldom satisfied."""
    pick = i % 5
    if pick == 0:
        return f'"{rng.choice(FIRST)} {rng.choice(LAST)}" {rng.choice(PLACES)}'
    if pick == 1:
        return f"@user_{rng.randint(1, 9999)} | chan{rng.randint(1, 999)}"
    if pick == 2:
        return f'"{rng.choice(ORGS)}" {rng.choice(_TOPICS)} {rng.choice(PLACES)}'
    if pick == 3:
        return f'"{rng.choice(FIRST)} {rng.choice(LAST)}" {rng.choice(_TOPICS)}'
    return rng.choice(_NOTHING)


def saved_searches(n: int, broad: bool) -> list[WatchEntry]:
    """`n` saved searches on the reports' words, names and places, some narrowed by source or
    region; `broad` ones match often, the others seldom."""
    rng = random.Random(n)
    entries: list[WatchEntry] = []
    for i in range(n):
        search = SavedSearch(
            q=_broad(rng, i) if broad else _narrow(rng, i),
            sources=(rng.choice(list(Source)),) if i % 4 == 3 else (),
            regions=tuple(rng.sample(REGIONS, 3)) if i % 3 == 2 else (),
        )
        entries.append(
            WatchEntry(id=f"s-{i:03d}", owner="bench", justification="bench", search=search)
        )
    return entries


def saved_search_runs(
    es: Elasticsearch,
    alias: str,
    corpus: Corpus,
    entries: list[WatchEntry],
    turns: tuple[int, int],
    es_pid: int | None,
) -> dict[str, float]:
    """ms per batch with the refresh (wall, CPU), without it, the refresh alone; matches/batch.

    `turns` is (batches per variant, reports per batch); the variants take turns.
    """
    batches, size = turns
    with_refresh, without, refresh_only = Meter(es_pid), Meter(es_pid), Meter(es_pid)
    refreshing, warm = BatchSearches(es, alias), BatchSearches(es, alias, refresh=False)
    found = 0
    for turn in range(batches * 2):
        reports = corpus.take(size)
        bulk(es, alias, reports)
        ids = [report_id for report_id, _, _ in reports]
        if turn % 2 == 0:
            matched = with_refresh(lambda ids=ids: refreshing.matches(entries, ids))
            found += sum(len(m) for m in matched.values())
        else:
            refresh_only(lambda: es.indices.refresh(index=alias))
            without(lambda ids=ids: warm.matches(entries, ids))
    return {
        "with": with_refresh.wall_ms(),
        "with_cpu": with_refresh.cpu_ms(),
        "without": without.wall_ms(),
        "refresh": refresh_only.wall_ms(),
        "matches": found / batches,
    }


def chunks(ids: list[str], size: int, count: int) -> Iterator[list[str]]:
    for n in range(count):
        start = n * size % max(len(ids) - size + 1, 1)
        yield ids[start : start + size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=int, default=2000, help="reports indexed for part 1")
    parser.add_argument("--batch", type=int, default=100, help="reports per batch")
    parser.add_argument("--batches", type=int, default=20, help="measured batches per variant")
    parser.add_argument("--reps", type=int, default=5, help="in-memory passes (best counts)")
    parser.add_argument("--selectors", default="1000,10000", help="selector/name entries")
    parser.add_argument("--searches", default="10,100", help="saved-search entries")
    parser.add_argument("--hot", type=int, default=50, help="entries on values reports use")
    args = parser.parse_args()
    sizes = [int(size) for size in args.selectors.split(",")]
    counts = [int(count) for count in args.searches.split(",")]

    settings = Settings().model_copy(update={"index_alias": unique_name("bench-watch")})
    alias = settings.index_alias
    es = elasticsearch_client(settings, request_timeout=600)
    try:
        index = ensure_index(es, settings)
        es.indices.put_settings(index=index, settings={"index.refresh_interval": "-1"})
        corpus = Corpus()
        progress(f"indexing {args.corpus:,} reports into {alias}")
        reports = corpus.take(args.corpus)
        for start in range(0, len(reports), 500):
            bulk(es, alias, reports[start : start + 500])
        es.indices.refresh(index=alias)
        enrichments = [enriched for _, enriched, _ in reports]
        ids = [report_id for report_id, _, _ in reports]
        batches = list(chunks(ids, args.batch, args.batches))
        hot = hot_targets(enrichments, args.hot)
        filler = filler_targets(max(sizes) - len(hot))

        es_pid = stack_pids(settings).get("elasticsearch")
        selector_rows, per_report = [], {}
        for size in sizes:
            progress(f"{size:,} selector entries: in memory and as a filters aggregation")
            watched = watchlist(hot + filler[: size - len(hot)])
            entries = [e for e in (watched.get(f"bench-{i}") for i in range(size)) if e]
            memory_us, memory_found = in_memory_us(watched, enrichments, args.reps)
            meter = Meter(es_pid)
            es_found = in_elasticsearch(es, alias, entries, batches, meter)
            wall_us, cpu_us = (meter.wall_ms() * 1000, meter.cpu_ms() * 1000)
            per_report[size] = (memory_us, cpu_us / args.batch, wall_us / args.batch)
            selector_rows.append(
                {
                    "entries": f"{size:,}",
                    "in memory: CPU us/report": f"{memory_us:.1f}",
                    "ES filters agg: CPU us/report": f"{cpu_us / args.batch:,.0f}",
                    "CPU ratio": f"{cpu_us / args.batch / memory_us:,.0f}x",
                    "ES wall us/report": f"{wall_us / args.batch:,.0f}",
                    "ES wall ms/batch p50 (max)": f"{meter.wall_ms():,.1f} "
                    f"({max(meter.walls) * 1000:,.0f})",
                    "matches/report mem | ES": f"{memory_found / len(enrichments):.3f} | "
                    f"{es_found / (args.batch * len(batches)):.3f}",
                }
            )

        search_rows, per_batch = [], {}
        for count in counts:
            for broad in (False, True):
                kind = "broad" if broad else "narrow"
                progress(f"{count} {kind} saved searches: {args.batches} batches each way")
                figures = saved_search_runs(
                    es,
                    alias,
                    corpus,
                    saved_searches(count, broad),
                    (args.batches, args.batch),
                    es_pid,
                )
                per_batch[count, kind] = figures
                search_rows.append(
                    {
                        "saved searches": f"{count} {kind}",
                        "wall ms/batch with refresh": f"{figures['with']:.1f}",
                        "without refresh": f"{figures['without']:.1f}",
                        "refresh alone": f"{figures['refresh']:.1f}",
                        "CPU ms/batch with refresh": f"{figures['with_cpu']:.1f}",
                        "CPU us/report": f"{figures['with_cpu'] / args.batch * 1000:,.0f}",
                        "matches/batch": f"{figures['matches']:.1f}",
                    }
                )
    finally:
        quiet = es.options(ignore_status=404)
        quiet.indices.delete(index=f"{alias}-*")
        quiet.indices.delete_index_template(name=alias)
        es.close()

    print(
        f"{args.corpus:,} reports ({args.hot} entries on values they hold), batches of "
        f"{args.batch}, {args.batches} batches per figure (wall: median; CPU: mean, this "
        f"process + the Elasticsearch node); in memory: best of {args.reps} passes"
    )
    print(format_table(selector_rows, list(selector_rows[0])))
    print()
    print(format_table(search_rows, list(search_rows[0])))
    largest, most = max(per_report), max(counts)
    memory_us, es_cpu_us, es_wall_us = per_report[largest]
    narrow, broad = per_batch[most, "narrow"], per_batch[most, "broad"]
    es_us = es_cpu_us if es_cpu_us == es_cpu_us else es_wall_us  # no node CPU: an outside cluster
    where = "in memory" if memory_us < es_us else "in Elasticsearch"
    print(
        f"conclusion: at {largest:,} selector entries matching costs {memory_us:.1f} us of CPU "
        f"per report in memory and {es_us:,.0f} us as a filters aggregation "
        f"({max(es_us / memory_us, memory_us / es_us):,.0f}x apart), so selectors and names "
        f"match {where}; {most} saved searches cost {narrow['with']:.0f} ms per batch of "
        f"{args.batch} ({narrow['refresh'] / narrow['with']:.0%} of it the refresh), "
        f"{broad['with']:.0f} ms when they match {broad['matches'] / args.batch:.0f}x per report."
    )


if __name__ == "__main__":
    main()
