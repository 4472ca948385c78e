"""Watch alerts, side by side in one run: matching cost, published -> alert visible, throughput.

Run: .venv/bin/python -m bench.alerts [--quick] [--skip cost,latency,throughput] (see --help)

Matching cost, in this process: the reports are bench/enrich.py's generated texts through the
real exact extractors, plus the people and organisations the generator wrote, cleaned as the
enrich stage cleans NER's spans (no model is loaded: matching only reads mentions). Every
watchlist holds the same `--hot` entries on values the reports use, so each size does the same
matched work, and fills the rest with entries on values no report holds, in equal shares of
the eight target types: only the index grows. Time is this process's CPU time over all
reports, the best of `--reps` rounds; p50 and p99 are per-report wall times in the fastest
round.

The stream, on the local stack, with real `pipeline worker` processes (one per deployment; each
deployment has its own topics, group and indices, all deleted afterwards):
- "with": `--entries` entries (10,000) written in bulk to `<alias>-watch` before its worker
  starts: one probe entry per latency record, on a plate only that record holds (age 75-89,
  which neither the demo stream nor the filler writes), `--hot` entries on selectors the
  throughput records hold, and filler entries on values no record holds.
- "none": no entries.
Both workers are started together and are in their groups before anything is timed.
- Latency, "with" only: a few warm-up records, no earlier than OVERLAP_S after the entries
  were written, so the worker's first look (which reads every entry) falls in the warm-up and
  no later look reads them again (see the watchlist row); then records at a steady
  `--steady-rate` for `--steady-s`. The worker's own /metrics give its mean time per batch by
  step over the steady phase. Each record's publish time is stamped just before the send (it
  is its Kafka timestamp too). Every `--poll-ms` one search of `<alias>-alerts` asks which
  pending reports have a hit (`kind: hit`, by report id); a record's latency is when the FIRST
  search that returned its hit came back, minus its publish time. So "visible" means
  searchable, as the API and the web page read alerts, and it can only overstate, by at most
  one poll interval plus one search.
  The worker stamps `seen_at` as its watch step starts (same host, same clock), which splits
  the latency into publish -> seen_at (consume, batch, enrich, dedup, index) and seen_at ->
  visible (the alerts bulk and the alerts index's refresh).
- Throughput: `--rounds` backlogs of `--backlog` demo records each (a new seed per round, the
  same records for both deployments), published as fast as the producer goes to one
  deployment while the other's worker idles; the clock runs from the first send until every
  valid record is searchable, as in bench/e2e. Rounds go none, with, with, none, ... so a
  drift in other people's load falls on both. Before the rounds, "none" is fed the records
  "with" saw for latency, so both indices hold the same reports. CPU per record (workers,
  Elasticsearch, Kafka, from /proc) moves far less with other people's load than records/s.
- Watchlist look: this process times `WatchSync.refresh` over the "with" entries, as a worker
  does its first look, a look within OVERLAP_S of a bulk write (it reads them all again) and a
  look after.

Targets (issue 13): matching <= 2 ms per report at 10,000 entries and <= 3x that at 100,000;
published -> alert visible p99 <= 1.5 s at 20 records/s with 10,000 entries; throughput with
10,000 entries >= 0.9x without.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import itertools
import json
import os
import random
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import common
from bench.common import format_table, percentile, progress
from bench.enrich import FIRST, LAST, ORGS, make_text
from pipeline.enrich.exact import extract_exact, normalise_phone
from pipeline.enrich.mentions import Enrichment, EntityType
from pipeline.enrich.names import clean_entity
from pipeline.enrich.regions import POSTCODE_AREAS
from pipeline.enrich.watch import WatchEntry, Watchlist

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from bench.e2e import Corpus
    from pipeline.dev.demo import DemoRecord
    from pipeline.ingest.report import Report
    from pipeline.settings import Settings
    from tests.harness import Deployment

PHASES = ("cost", "latency", "throughput")
TARGET_COST_MS = 2.0
TARGET_COST_GROWTH = 3.0
TARGET_P99_S = 1.5
TARGET_THROUGHPUT_RATIO = 0.9

_PEOPLE = re.compile(rf"\b(?:{'|'.join(FIRST)}) (?:{'|'.join(LAST)})\b")
_ORGS = re.compile("|".join(re.escape(org) for org in ORGS))
_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXY"  # a plate's memory tag; reports use AB, KX, LB, YK only
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "za", "be", "do", "fi"]


def enrichment(text: str) -> Enrichment:
    """Exact mentions as the stage finds them, and the generator's names as NER's would be."""
    mentions = extract_exact(text)
    for pattern, kind in ((_PEOPLE, EntityType.PERSON), (_ORGS, EntityType.ORG)):
        for match in pattern.finditer(text):
            cleaned = clean_entity(text, match.start(), match.end(), kind)
            if cleaned is not None:
                mentions.append(cleaned)
    return Enrichment.from_mentions(mentions, None)


def _phones() -> Iterator[str]:
    """Valid UK mobiles outside the 07700 900xxx range the reports use."""
    for prefix, line in itertools.product(range(7400, 7700), range(0, 1_000_000, 7919)):
        number = f"0{prefix} {line:06d}"
        if normalise_phone(number) is not None:
            yield number


def _names(i: int) -> str:
    """A made-up two-word name, distinct for each i below 12**6, never a generator name."""
    digits = [i // 12**k % 12 for k in range(6)]
    first = "".join(_SYLLABLES[d] for d in digits[:3])
    last = "".join(_SYLLABLES[d] for d in digits[3:])
    return f"{first.title()} {last.title()}"


def filler_targets(n: int) -> list[str]:
    """`n` targets no report mentions, the eight types in turn."""
    phones = _phones()
    areas = sorted(POSTCODE_AREAS)
    units = ["DE", "FG", "HJ", "LN", "PQ", "RS", "TU", "WX"]  # reports end in "AB"
    makers = [
        lambda i: f"phone:{next(phones)}",
        # Ages 02-39 (reports use 51-74), three letters from the index.
        lambda i: (
            f"vehicle:{_LETTERS[i % 23]}{_LETTERS[i // 23 % 23]}"
            f"{2 + i // 529 % 38:02d} {''.join(_LETTERS[i // 20107 % 23] * 3)}"
        ),
        lambda i: f"handle:@watch_{i}",
        lambda i: f"email:w{i}@watch.example.org",
        lambda i: f"url:https://watch.example.org/p/{i}?utm_source=bench",
        lambda i: (
            f"postcode:{areas[i % len(areas)]}{1 + i // len(areas) % 9}"
            f" {i // (9 * len(areas)) % 10}{units[i // (90 * len(areas)) % len(units)]}"
        ),
        lambda i: f"person:{_names(i)}",
        lambda i: f"org:{_names(i)} Trust",
    ]
    return [makers[i % len(makers)](i // len(makers)) for i in range(n)]


def hot_targets(enrichments: list[Enrichment], n: int, seed: int = 3) -> list[str]:
    """`n` distinct targets written as the reports write them."""
    written = sorted({(m.type.value, m.text) for e in enrichments for m in e.mentions})
    return [f"{kind}:{text}" for kind, text in random.Random(seed).sample(written, n)]


def watchlist(targets: list[str]) -> Watchlist:
    """The entries, created now (so live for 90 days) and validated one by one, as an API would."""
    return Watchlist(
        WatchEntry(id=f"bench-{i}", owner="bench", justification="bench", target=target)
        for i, target in enumerate(targets)
    )


def measure(watched: Watchlist, enrichments: list[Enrichment], reps: int) -> dict[str, float]:
    """CPU µs per report (best round), p50/p99 wall µs and matches per report."""
    now = datetime.now(UTC)
    best_cpu, best_walls, matches = float("inf"), [0.0], 0
    for _ in range(reps):
        walls: list[float] = []
        found = 0
        cpu = time.process_time()
        for enriched in enrichments:
            start = time.perf_counter_ns()
            found += len(watched.match(enriched, now))
            walls.append((time.perf_counter_ns() - start) / 1000)
        cpu = time.process_time() - cpu
        if cpu < best_cpu:
            best_cpu, best_walls, matches = cpu, walls, found
    n = len(enrichments)
    return {
        "cpu_us": best_cpu / n * 1e6,
        "p50_us": percentile(best_walls, 50) or 0.0,
        "p99_us": percentile(best_walls, 99) or 0.0,
        "matches": matches / n,
    }


def _row(
    measure: str, value: str, target: str = "", ok: bool | None = None, note: str = ""
) -> dict[str, str]:
    verdict = "" if not target else "n/a" if ok is None else "PASS" if ok else "MISS"
    return {"measure": measure, "value": value, "target": target, "verdict": verdict, "note": note}


def cost_phase(args: argparse.Namespace) -> tuple[str, list[dict[str, str]]]:
    """The matching-cost table, and the summary's rows for its two targets."""
    sizes = [int(size) for size in args.sizes.split(",")]
    rng = random.Random(7)
    enrichments = [enrichment(make_text(rng)) for _ in range(args.reports)]
    mentions = sum(len(e.mentions) for e in enrichments) / len(enrichments)
    hot = hot_targets(enrichments, args.hot)
    filler = filler_targets(max(sizes) - len(hot))
    rows, cost = [], {}
    for size in sizes:
        progress(f"matching cost, {size:,} entries: creating")
        start = time.process_time()
        watched = watchlist(hot + filler[: size - len(hot)])
        build = time.process_time() - start
        progress(f"matching cost, {size:,} entries: {len(enrichments):,} reports x {args.reps}")
        figures = measure(watched, enrichments, args.reps)
        cost[size] = figures["cpu_us"]
        rows.append(
            {
                "entries": f"{len(watched):,}",
                "create+index s": f"{build:.2f}",
                "us/report (cpu)": f"{figures['cpu_us']:.1f}",
                "p50 us": f"{figures['p50_us']:.1f}",
                "p99 us": f"{figures['p99_us']:.1f}",
                "matches/report": f"{figures['matches']:.2f}",
            }
        )
    table = "\n".join(
        [
            f"matching cost: {len(enrichments):,} reports, {mentions:.1f} mentions each on "
            f"average, {len(hot)} entries on values reports use, best of {args.reps}",
            format_table(rows, list(rows[0])),
        ]
    )
    summary = []
    if 10_000 in cost:
        ms = cost[10_000] / 1000
        summary.append(
            _row(
                "matching cost, 10,000 entries",
                f"{ms:.3f} ms/report",
                f"<= {TARGET_COST_MS:.0f} ms",
                ms <= TARGET_COST_MS,
                "CPU in this process, see the table above",
            )
        )
    if {10_000, 100_000} <= cost.keys():
        growth = cost[100_000] / cost[10_000]
        summary.append(
            _row(
                "matching cost, 100,000 / 10,000",
                f"{growth:.2f}x",
                f"<= {TARGET_COST_GROWTH:.0f}x",
                growth <= TARGET_COST_GROWTH,
            )
        )
    return table, summary


# --- the stream: real workers, alerts written and searched ---------------------------------

_NARRATIVE = ("description", "summary", "concern")  # the field that holds a record's text
_PROBE_SENTENCE = "A grey estate, registration {plate}, was seen there again."


def probe_plate(i: int) -> str:
    """A current-format plate, distinct for each i below 7,935, with an age (75-89) that
    neither the demo stream (10-24, 51-74) nor `filler_targets` (02-39) writes."""
    return f"{_LETTERS[i % 23]}{_LETTERS[i // 23 % 23]}{75 + i // 529 % 15} WPX"


@dataclasses.dataclass(frozen=True)
class Probe:
    """A record holding a plate only `entry` watches, and the `_id` its report is indexed as."""

    record: DemoRecord
    report_id: str
    entry: WatchEntry


def _report(record: DemoRecord) -> Report | None:
    """The Report the worker's validator makes of `record`; None if it would dead-letter it."""
    from pipeline.errors import RecordError
    from pipeline.ingest.records import RawRecord
    from pipeline.ingest.validate import parse_record

    raw = RawRecord(record.topic, 0, 0, record.key, record.value, timestamp_ms=0)
    try:
        return parse_record(raw)
    except RecordError:
        return None


def probes(count: int, seed: int, first: int = 0) -> list[Probe]:
    """`count` valid demo records, each with a sentence naming its own probe plate added."""
    from bench.e2e import build_corpus
    from pipeline.index.document import doc_id

    made: list[Probe] = []
    for record, report in build_corpus(count + count // 4 + 10, seed):
        if len(made) == count:
            break
        if report is None:
            continue
        n = first + len(made)
        plate = probe_plate(n)
        body = json.loads(record.value or b"{}")
        field = next(name for name in _NARRATIVE if name in body)
        body[field] = f"{body[field]} {_PROBE_SENTENCE.format(plate=plate)}"
        probed = dataclasses.replace(record, value=json.dumps(body, ensure_ascii=False).encode())
        entry = WatchEntry(
            id=f"probe-{n}", owner="bench", justification="bench", target=f"vehicle:{plate}"
        )
        parsed = _report(probed)
        if parsed is None or entry.key[1] not in {m.value for m in extract_exact(parsed.text)}:
            raise RuntimeError(f"probe plate {plate} is not read from record {record.key!r}")
        made.append(Probe(probed, doc_id(parsed.source, parsed.source_id), entry))
    return made


def hot_entries(corpora: Sequence[Corpus], n: int) -> list[WatchEntry]:
    """Entries on `n` selectors the throughput records hold, written as the records write them."""
    found = [
        Enrichment.from_mentions(extract_exact(report.text), None)
        for corpus in corpora
        for _, report in corpus
        if report is not None
    ]
    entries = []
    for i, target in enumerate(hot_targets(found, n) if found else []):
        try:
            entries.append(
                WatchEntry(id=f"hot-{i}", owner="bench", justification="bench", target=target)
            )
        except ValueError:  # a written form an entry refuses (none so far): filler takes its place
            continue
    return entries


def store_entries(es: Elasticsearch, alias: str, entries: Sequence[WatchEntry]) -> datetime:
    """Write `entries` to the deployment's watch index in bulk, each as `put_entry` writes one;
    returns their `updated_at`."""
    from pipeline.enrich.watch.store import ensure_watch_index

    index = ensure_watch_index(es, alias)
    stored = datetime.now(UTC)
    for start in range(0, len(entries), 2000):
        operations: list[dict[str, Any]] = []
        for entry in entries[start : start + 2000]:
            operations.append({"index": {"_index": index, "_id": entry.id}})
            document = entry.model_dump(mode="json")
            operations.append({**document, "updated_at": stored.isoformat(), "deleted": False})
        response = es.bulk(operations=operations)
        if response["errors"]:
            failed = next(i["index"] for i in response["items"] if i["index"].get("error"))
            raise RuntimeError(f"storing watchlist entries: {failed}")
    es.indices.refresh(index=index)
    return stored


def _hits(es: Elasticsearch, index: str, report_ids: Sequence[str]) -> dict[str, float]:
    """Report id -> the `seen_at` (epoch seconds) of its searchable hit, for those that have one."""
    response = es.search(
        index=index,
        query={
            "bool": {"filter": [{"term": {"kind": "hit"}}, {"terms": {"report_id": report_ids}}]}
        },
        collapse={"field": "report_id"},
        size=len(report_ids),
        source_includes=["report_id", "seen_at"],
    )
    return {
        hit["_source"]["report_id"]: datetime.fromisoformat(hit["_source"]["seen_at"]).timestamp()
        for hit in response["hits"]["hits"]
    }


def alert_latency(
    dep: Deployment,
    es: Elasticsearch,
    records: Sequence[Probe],
    rate: float,
    *,
    drain_s: float,
    poll_s: float,
) -> dict[str, Any]:
    """Publish `records` at `rate`/s; poll every `poll_s` for when each one's hit is searchable."""
    from pipeline.enrich.watch.alerts import alerts_index

    index = alerts_index(dep.alias)
    sends = [(p.report_id, p.record.topic, p.record.key, p.record.value) for p in records]
    run = common.publish_steadily(
        dep, sends, rate, lambda ids: _hits(es, index, ids), poll_s=poll_s, drain_s=drain_s
    )
    published = run.published
    visible = {r: answered - published[r] for r, (answered, _) in run.found.items()}
    seen = {r: seen_at - published[r] for r, (_, seen_at) in run.found.items()}
    values = list(visible.values())
    after_seen = [visible[r] - seen[r] for r in visible]
    return {
        "records": len(records),
        "rate": len(records) / max(max(published.values()) - run.started, 1e-9),
        "missing": len(run.missing),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values, default=None),
        "seen_p50": percentile(list(seen.values()), 50),
        "seen_p99": percentile(list(seen.values()), 99),
        "after_seen_p50": percentile(after_seen, 50),
        "after_seen_p99": percentile(after_seen, 99),
    }


def stage_totals(port: int) -> dict[str, tuple[float, float]]:
    """Stage -> (seconds, calls) so far, from a worker's own /metrics (the batch path's timer)."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    totals: dict[str, list[float]] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "ct_pipeline_stage_duration_seconds":
            continue
        for sample in family.samples:
            slot = {"_sum": 0, "_count": 1}.get(sample.name.removeprefix(family.name))
            if slot is not None:
                totals.setdefault(sample.labels["stage"], [0.0, 0.0])[slot] = sample.value
    return {stage: (v[0], v[1]) for stage, v in totals.items()}


def stage_means(
    before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]]
) -> dict[str, float]:
    """Mean ms per call of each stage between two `stage_totals`, and `calls` (batches)."""
    means: dict[str, float] = {}
    for stage, (seconds, calls) in after.items():
        s0, c0 = before.get(stage, (0.0, 0.0))
        if calls > c0:
            means[stage] = (seconds - s0) * 1000 / (calls - c0)
    means["calls"] = after.get("batch", (0.0, 0.0))[1] - before.get("batch", (0.0, 0.0))[1]
    return means


def watch_looks(es: Elasticsearch, alias: str, stored: datetime) -> dict[str, float]:
    """Seconds a worker's `WatchSync.refresh` takes over the deployment's entries: its first
    look, a look within OVERLAP_S of their bulk write (they are all read again), a look after.

    The looks are given their `now`, so no waiting: the entries' `updated_at` is `stored`.
    """
    from pipeline.enrich.watch.store import OVERLAP_S, WatchSync

    sync = WatchSync(es, alias)
    looks: dict[str, float] = {}
    after = timedelta(seconds=OVERLAP_S + 10)
    for name, now in (
        ("first", stored + timedelta(seconds=1)),
        ("within", stored + timedelta(seconds=3)),
        ("", stored + after),  # still reads them all: the last look was within the window
        ("after", stored + after + timedelta(seconds=2)),
    ):
        started = time.perf_counter()
        sync.refresh(now)
        if name:
            looks[name] = time.perf_counter() - started
    looks["entries"] = len(sync.watchlist)
    return looks


def backlog_round(
    dep: Deployment, es: Elasticsearch, corpus: Corpus, stall_s: float
) -> dict[str, float]:
    """Publish `corpus` at once; seconds from the first send until every valid record is
    searchable, and the CPU seconds each process used meanwhile."""
    valid = sum(1 for _, report in corpus if report is not None)
    already = common.indexed_count(es, dep.alias)
    meter = common.CpuMeter(_pids([dep], dep.settings))
    started = time.time()
    common.publish(dep.settings, [record for record, _ in corpus])
    done_at = common.wait_progress(
        lambda: common.indexed_count(es, dep.alias),
        lambda n: n >= already + valid,
        f"{dep.name}: searchable",
        stall_s=stall_s,
        check=dep.check_workers,
    )
    return {"records": valid, "seconds": done_at - started, **meter.stop()}


def _hit_count(es: Elasticsearch, alias: str) -> int:
    from pipeline.enrich.watch.alerts import alerts_index

    index = alerts_index(alias)
    es.indices.refresh(index=index)
    return int(es.count(index=index, query={"term": {"kind": "hit"}})["count"])


def _rates(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Records/s over all rounds, CPU ms per record by process, others' share of the machine."""
    records = sum(r["records"] for r in rounds)
    labels = [k for k in rounds[0] if k not in ("records", "seconds", "machine", "wall")]
    cpu = {k: sum(r[k] for r in rounds) * 1000 / records for k in labels}
    total = {k: sum(r[k] for r in rounds) for k in [*labels, "machine", "wall"]}
    return {
        "rate": records / sum(r["seconds"] for r in rounds),
        "records": records,
        **{f"cpu_{k}": v for k, v in cpu.items()},
        "others_share": _others_share(total),
    }


def stream_phase(
    args: argparse.Namespace, base: Settings, es: Elasticsearch, log_dir: Path
) -> list[dict[str, str]]:
    """Latency and throughput with real workers; the summary's rows."""
    from bench.e2e import build_corpus
    from pipeline.enrich.watch.store import OVERLAP_S

    latency, throughput = "latency" not in args.skip, "throughput" not in args.skip
    corpora = [build_corpus(args.backlog, args.seed + k) for k in range(args.rounds)]
    corpora = corpora if throughput else []
    warm = probes(args.warmup, args.seed + 500)
    steady_n = round(args.steady_rate * args.steady_s) if latency else 0
    steady = probes(steady_n, args.seed + 1000, first=len(warm))
    entries = [p.entry for p in warm + steady] + hot_entries(corpora, args.hot)
    if len(entries) > args.entries:
        raise SystemExit(f"--entries {args.entries} is fewer than the {len(entries)} probe+hot")
    filler = filler_targets(args.entries - len(entries))
    entries += [
        WatchEntry(id=f"filler-{i}", owner="bench", justification="bench", target=target)
        for i, target in enumerate(filler)
    ]
    rows: list[dict[str, str]] = []
    with ExitStack() as stack:
        with_ = stack.enter_context(common.deployment(base, log_dir, "bench-alerts-with"))
        progress(f"{with_.name}: writing {len(entries):,} watchlist entries in bulk")
        stored = store_entries(es, with_.alias, entries)
        deps = [with_]
        if throughput:
            deps.append(stack.enter_context(common.deployment(base, log_dir, "bench-alerts-none")))
        for dep in deps:
            dep.start_workers(1)
        for dep in deps:
            common.wait_group_stable(dep, 1)
        # The first look reads every entry, and so does each look whose previous one was
        # within OVERLAP_S of their bulk write: make the warm-up's look the first, past that.
        clean = stored.timestamp() + OVERLAP_S + 1
        progress(f"workers in their groups; warm-up in {max(clean - time.time(), 0):.0f}s")
        time.sleep(max(clean - time.time(), 0.0))
        alert_latency(with_, es, warm, args.steady_rate, drain_s=args.stall_s, poll_s=0.2)
        if args.alerts_refresh:
            from pipeline.enrich.watch.alerts import alerts_index

            progress(f"setting the alerts index's refresh_interval to {args.alerts_refresh}")
            es.indices.put_settings(
                index=alerts_index(with_.alias),
                settings={"index": {"refresh_interval": args.alerts_refresh}},
            )
        if latency:
            progress(f"latency: {len(steady)} records at {args.steady_rate}/s")
            before = stage_totals(with_.workers[0].port)
            meter = common.CpuMeter(_pids(deps, base))
            lat = alert_latency(
                with_,
                es,
                steady,
                args.steady_rate,
                drain_s=args.stall_s,
                poll_s=args.poll_ms / 1000,
            )
            rows += _latency_rows(lat, len(entries), args.poll_ms, args.alerts_refresh)
            means = stage_means(before, stage_totals(with_.workers[0].port))
            rows.append(_stages_row(means, len(steady), meter.stop()))
        progress("watchlist looks, in this process")
        rows.append(_looks_row(watch_looks(es, with_.alias, stored)))
        if throughput:
            rows += _throughput(
                args, es, with_, deps[1], corpora, [p.record for p in warm + steady]
            )
        peaks = [dep.stop_workers() for dep in deps]
    if throughput:
        rows.append(
            _row(
                "worker peak RSS (VmHWM), none / with",
                f"{peaks[1]:.0f} / {peaks[0]:.0f} MB",
                note=f"{len(entries):,} entries held in memory by 'with'",
            )
        )
    return rows


def _throughput(
    args: argparse.Namespace,
    es: Elasticsearch,
    with_: Deployment,
    none: Deployment,
    corpora: list[Corpus],
    seen: list[DemoRecord],
) -> list[dict[str, str]]:
    """Feed 'none' what 'with' has seen, then the backlog rounds, alternating; the rows."""
    progress(f"{none.name}: the {len(seen)} records {with_.name} has seen, as a backlog")
    common.publish(none.settings, seen)
    for alias, dep in ((none.alias, none), (with_.alias, with_)):
        common.wait_progress(
            functools.partial(common.indexed_count, es, alias),
            lambda n: n >= len(seen),
            f"{dep.name}: searchable",
            stall_s=args.stall_s,
            check=dep.check_workers,
        )
    rounds: dict[str, list[dict[str, float]]] = {with_.name: [], none.name: []}
    hits_before = _hit_count(es, with_.alias)
    for k, corpus in enumerate(corpora):
        for dep in (none, with_) if k % 2 == 0 else (with_, none):
            progress(f"throughput round {k + 1}/{len(corpora)}: {dep.name}, {len(corpus)} records")
            result = backlog_round(dep, es, corpus, args.stall_s)
            rounds[dep.name].append(result)
            progress(f"  {result['records'] / result['seconds']:.1f} records/s")
    hits = _hit_count(es, with_.alias) - hits_before
    bare, watched = _rates(rounds[none.name]), _rates(rounds[with_.name])
    ratio = watched["rate"] / bare["rate"]
    cpu_ratio = bare["cpu_workers"] / watched["cpu_workers"]

    def note(r: dict[str, float], name: str) -> str:
        each = ", ".join(f"{x['records'] / x['seconds']:.1f}" for x in rounds[name])
        cpu = " + ".join(
            f"{k.removeprefix('cpu_')} {v:.1f}"
            for k, v in r.items()
            if k.startswith("cpu_") and k != "cpu_bench"
        )
        others = f"others took {r['others_share']:.0%} of the machine"
        return f"rounds {each} rec/s; CPU ms/record: {cpu}; {others}"

    shape = f"{len(corpora)} x {args.backlog} demo records, 1 worker"
    return [
        _row(
            f"throughput, no entries ({shape})",
            f"{bare['rate']:.1f} rec/s",
            note=note(bare, none.name),
        ),
        _row(
            f"throughput, {args.entries:,} entries",
            f"{watched['rate']:.1f} rec/s",
            note=note(watched, with_.name) + f"; {hits / watched['records']:.2f} hits/record",
        ),
        _row(
            "throughput with / without entries",
            f"{ratio:.2f}x",
            f">= {TARGET_THROUGHPUT_RATIO}x",
            ratio >= TARGET_THROUGHPUT_RATIO,
            f"by worker CPU per record: {cpu_ratio:.2f}x",
        ),
    ]


def _latency_rows(
    lat: dict[str, Any], entries: int, poll_ms: float, refresh: str | None
) -> list[dict[str, str]]:
    if lat["p99"] is None:
        return [
            _row("published -> alert visible", "no alert seen", f"p99 <= {TARGET_P99_S} s", False)
        ]
    ok = lat["p99"] <= TARGET_P99_S and lat["missing"] == 0
    return [
        _row(
            "published -> alert visible p50/p95/p99",
            f"{lat['p50']:.2f}/{lat['p95']:.2f}/{lat['p99']:.2f} s",
            f"p99 <= {TARGET_P99_S} s",
            ok,
            f"{lat['records']} records at {lat['rate']:.1f}/s, {entries:,} entries, 1 worker; "
            f"max {lat['max']:.2f} s; missing {lat['missing']}; polled every {poll_ms:.0f} ms",
        ),
        _row(
            "  published -> seen_at p50/p99",
            f"{lat['seen_p50']:.2f}/{lat['seen_p99']:.2f} s",
            note="the worker's watch step starts: consume, batch, enrich, dedup, index",
        ),
        _row(
            "  seen_at -> visible p50/p99",
            f"{lat['after_seen_p50']:.2f}/{lat['after_seen_p99']:.2f} s",
            note="alerts bulk, the alerts index's refresh"
            + (f" (set to {refresh} by --alerts-refresh)" if refresh else "")
            + ", the poll",
        ),
    ]


def _pids(deps: Sequence[Deployment], settings: Settings) -> dict[str, list[int]]:
    """The processes a CpuMeter tells apart from other people's: workers, stack, bench."""
    pids = {"workers": [w.process.pid for dep in deps for w in dep.workers]}
    pids |= {name: [pid] for name, pid in common.stack_pids(settings).items()}
    return pids | {"bench": [os.getpid()]}


def _others_share(cpu: dict[str, float]) -> float:
    """The share of the whole machine other people's processes took (CpuMeter.stop figures)."""
    ours = sum(v for k, v in cpu.items() if k not in ("machine", "wall"))
    return max(cpu["machine"] - ours, 0.0) / (cpu["wall"] * (os.cpu_count() or 1))


def _stages_row(means: dict[str, float], records: int, cpu: dict[str, float]) -> dict[str, str]:
    calls = means.pop("calls")
    batch = means.pop("batch", 0.0)
    steps = ", ".join(f"{stage} {ms:.1f}" for stage, ms in means.items())
    busy = batch * calls / 1000 / cpu["wall"]
    return _row(
        "  worker batches meanwhile",
        f"{calls:.0f} of {records / max(calls, 1):.1f} records",
        note=f"mean ms per batch {batch:.1f}: {steps} (the worker's /metrics); its one stage "
        f"thread busy {busy:.0%} of the time; others took {_others_share(cpu):.0%} of the machine",
    )


def _looks_row(looks: dict[str, float]) -> dict[str, str]:
    return _row(
        f"watchlist look, {int(looks['entries']):,} entries",
        f"{looks['first']:.2f} s / {looks['within']:.2f} s / {looks['after'] * 1000:.0f} ms",
        note="first look / any look within 30 s of a bulk write (all read again) / a later look",
    )


# --- the run -----------------------------------------------------------------------------

# option: (default, --quick default); --quick smoke-runs every part in a couple of minutes
_SIZES: dict[str, tuple[Any, Any]] = {
    "reports": (2000, 300),
    "reps": (5, 2),
    "steady_s": (45.0, 10.0),
    "warmup": (10, 5),
    "backlog": (1500, 200),
    "rounds": (2, 1),
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.alerts",
        description="Watch alerts side by side in one run (issue 13): matching cost per report "
        "at 1,000 / 10,000 / 100,000 live entries, published -> alert visible at a steady rate "
        "with 10,000 entries, and a worker's throughput with and without them, on the local "
        "stack. Prints the tables on stdout, progress on stderr.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, to smoke-run it (a couple of minutes)"
    )
    parser.add_argument(
        "--skip", default="", help=f"comma-separated parts to skip: {','.join(PHASES)}"
    )
    parser.add_argument("--reports", type=int, help="matching cost: reports (2000; quick 300)")
    parser.add_argument("--reps", type=int, help="matching cost: rounds, best counts (5; quick 2)")
    parser.add_argument(
        "--sizes", default="1000,10000,100000", help="matching cost: live entries, comma-separated"
    )
    parser.add_argument(
        "--hot", type=int, default=50, help="entries on values the reports / records use (50)"
    )
    parser.add_argument(
        "--entries", type=int, default=10_000, help="stream: live entries in 'with' (10000)"
    )
    parser.add_argument(
        "--steady-s", type=float, help="latency: seconds of steady publishing (45; quick 10)"
    )
    parser.add_argument("--steady-rate", type=float, default=20.0, help="latency: records/s (20)")
    parser.add_argument("--warmup", type=int, help="latency: warm-up records (10; quick 5)")
    parser.add_argument(
        "--poll-ms", type=float, default=50.0, help="latency: alerts searched every (50 ms)"
    )
    parser.add_argument(
        "--backlog", type=int, help="throughput: records per round (1500; quick 200)"
    )
    parser.add_argument("--rounds", type=int, help="throughput: rounds per deployment (2; quick 1)")
    parser.add_argument(
        "--alerts-refresh",
        metavar="INTERVAL",
        help="latency: set the alerts index's refresh_interval (e.g. 100ms) after the warm-up, "
        "to see what a faster refresh would buy (default: as the worker creates it)",
    )
    parser.add_argument("--seed", type=int, default=1, help="demo generator seed (1)")
    parser.add_argument(
        "--partitions", type=int, help="partitions per intake topic (PIPELINE_INTAKE_PARTITIONS)"
    )
    parser.add_argument(
        "--stall-s",
        type=float,
        default=180.0,
        help="fail a wait when nothing moved for this long (180)",
    )
    args = parser.parse_args(argv)
    for name, (full, quick) in _SIZES.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if skip - set(PHASES):
        parser.error(f"unknown part(s) in --skip: {', '.join(sorted(skip - set(PHASES)))}")
    args.skip = skip
    return args


def main(argv: Sequence[str] | None = None) -> int:
    from bench.e2e import ensure_stack
    from pipeline.clients import elasticsearch_client
    from pipeline.settings import Settings
    from tests.harness import REPO

    args = parse_args(argv)
    started = datetime.now(UTC)
    tables, rows = [], []
    base: Settings | None = None
    if "cost" not in args.skip:
        table, summary = cost_phase(args)
        tables.append(table)
        rows += summary
    if not {"latency", "throughput"} <= args.skip:
        base = Settings()
        if args.partitions:
            base = base.model_copy(update={"intake_partitions": args.partitions})
        es = elasticsearch_client(base)
        try:
            ensure_stack(base, es)
            log_dir = REPO / "bench" / "results" / f"alerts-{started:%Y%m%d-%H%M%S}-logs"
            log_dir.mkdir(parents=True, exist_ok=True)
            progress(f"the stream; worker logs in {log_dir}")
            rows += stream_phase(args, base, es, log_dir)
        finally:
            es.close()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    header = f"{started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load average at the end {load}"
    if base is not None:
        header += (
            f"; worker batches of {base.batch_size} or {base.batch_timeout_s} s, watchlist "
            f"looks every {base.watch_refresh_s} s, {base.intake_partitions} partitions per topic"
        )
    tables.append(
        header + "\n" + format_table(rows, ["measure", "value", "target", "verdict", "note"])
    )
    print("\n\n".join(tables))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
