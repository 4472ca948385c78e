"""End-to-end benchmark (issue #9): throughput, NER ceiling, naive loop, latency, catch-up, RSS.

All in one run on the local stack (started if it is down).

Run: bench/e2e [--count 20000] [--steady-s 60] [--naive-count 1000] [--skip naive,catchup]

What each figure means (every phase uses its own fresh deployment: topic prefix, consumer
group and index alias, deleted afterwards):
- NER ceiling: `nlp.pipe` with the worker's NER-only model over the texts of the same valid
  reports, in 1 and in 2 spawned processes (one model each), timed from a common barrier to
  the last document; model loading is not timed.
- end to end, 1 and 2 workers: `pipeline worker` subprocesses are started and the consumer
  group is Stable before the clock starts; then the N records are published (as fast as the
  producer goes) and the clock stops when the alias counts every valid record (polled every
  200 ms, no forced refresh: counted means searchable).
- naive: one kafka-python consumer, one record per poll, the FULL spaCy pipeline, one
  `index(refresh=true)` and one synchronous commit per record, on the first valid records;
  timed from the first record consumed. It is never given a bad record (it would crash).
- latency: with the 2 workers still running, valid records at a steady rate; each record's
  publish time is stamped (it is also its Kafka timestamp). Every 100 ms one search asks for
  the source_ids still pending; a record's latency is the time the FIRST search that returned
  it came back, minus its publish time. That is "searchable" (visible after a refresh), and it
  can only overstate, by at most one poll interval plus one search round trip. The search
  traffic keeps the shard from going search-idle, as analysts' searches do in production.
  publish->ingested (the document's event.ingested, stamped by the worker before its bulk
  request) is shown for contrast: the gap between the two is bulk indexing plus the refresh.
- catch-up: N records are published with no worker running, then 2 workers start; time to
  zero lag is from starting them until every partition's committed offset is its end offset.
- worker RSS: the largest VmHWM any worker process reached in any phase.
- CPU per record: user+system CPU seconds (/proc/<pid>/stat) of the workers, Elasticsearch,
  Kafka and the bench itself over a throughput phase, per valid record, next to the CPU one
  text costs NER alone. Other people's load moves wall-clock rates a lot and these little, so
  "NER ms / (workers + Elasticsearch + Kafka) ms" is the throughput ratio to the ceiling on
  two idle, fully busy cores; the share of the machine others used is shown too. On the
  shared stack Elasticsearch and Kafka also serve other people, so that ratio errs low.
The machine is shared and noisy: compare the ratios, which are measured minutes apart.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import queue
import shlex
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import common
from bench.common import progress
from tests.harness import REPO, Deployment

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from pipeline.dev.demo import DemoRecord
    from pipeline.ingest.report import Report
    from pipeline.settings import Settings

PHASES = ("ceiling", "naive", "e2e-1", "e2e-2", "latency", "catchup")
TARGET_CEILING_RATIO = 0.9
TARGET_NAIVE_RATIO = 5.0
TARGET_P99_S = 2.0
TARGET_RSS_MB = 800.0  # with both models loaded, NER and the sentence embedder (issue 14)
Corpus = list[tuple["DemoRecord", "Report | None"]]


def build_corpus(count: int, seed: int) -> Corpus:
    """Demo records, each with the Report the pipeline's own validator makes of it (or None)."""
    from pipeline.dev.demo import generate
    from pipeline.errors import RecordError
    from pipeline.ingest.records import RawRecord
    from pipeline.ingest.validate import parse_record

    corpus: Corpus = []
    for offset, record in enumerate(generate(count, seed)):
        raw = RawRecord(record.topic, 0, offset, record.key, record.value, timestamp_ms=0)
        try:
            corpus.append((record, parse_record(raw)))
        except RecordError:
            corpus.append((record, None))
    return corpus


# --- NER ceiling -------------------------------------------------------------------------


def _ner_child(texts: list[str], barrier: Any, results: Any) -> None:
    from pipeline.enrich.ner import load_ner

    nlp = load_ner()
    for _ in nlp.pipe(texts[:16]):  # warm-up, as a worker is warm after its first batch
        pass
    barrier.wait()
    started, cpu = time.monotonic(), time.process_time()
    entities = sum(len(doc.ents) for doc in nlp.pipe(texts))
    results.put((started, time.monotonic(), len(texts), entities, time.process_time() - cpu))


def ner_ceiling(texts: list[str], processes: int) -> dict[str, Any]:
    """Records/s of NER alone in `processes` spawned processes, one model each."""
    from pipeline.enrich.extract import NER_MAX_CHARS

    # spawn, not fork: the parent holds Kafka/Elasticsearch client threads
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    shares = [[t[:NER_MAX_CHARS] for t in texts[n::processes]] for n in range(processes)]
    children = [ctx.Process(target=_ner_child, args=(share, barrier, results)) for share in shares]
    for child in children:
        child.start()
    outcomes: list[tuple[float, float, int, int, float]] = []
    while len(outcomes) < processes:
        try:
            outcomes.append(results.get(timeout=5))
        except queue.Empty:
            failed = [c.exitcode for c in children if c.exitcode not in (None, 0)]
            if failed:
                raise RuntimeError(f"NER ceiling child exited with {failed}") from None
    for child in children:
        child.join()
    wall = max(o[1] for o in outcomes) - min(o[0] for o in outcomes)
    done = sum(o[2] for o in outcomes)
    cpu_ms = sum(o[4] for o in outcomes) * 1000 / done
    return {
        "processes": processes,
        "texts": done,
        "seconds": wall,
        "rate": done / wall,
        "cpu_ms_per_record": cpu_ms,
    }


# --- naive pipeline ------------------------------------------------------------------------


def naive_pipeline(
    base: Settings, es: Elasticsearch, records: list[DemoRecord], log_dir: Path
) -> dict[str, Any]:
    """Records/s of a tutorial-style loop: full spaCy, refresh=true and a commit per record."""
    import spacy
    from kafka import KafkaConsumer

    from pipeline.clients import kafka_config
    from pipeline.enrich.ner import MODEL

    with common.deployment(base, log_dir, "bench-e2e-naive") as dep:
        common.publish(dep.settings, records)
        nlp = spacy.load(MODEL)  # every component, as a tutorial loads it
        index = f"{dep.name}-naive"
        consumer = KafkaConsumer(
            *dep.intake,
            **kafka_config(
                dep.settings,
                group_id=f"{dep.name}-naive",
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_records=1,
                consumer_timeout_ms=120_000,
            ),
        )
        started: float | None = None
        done = 0
        try:
            for message in consumer:
                started = started or time.monotonic()
                body = json.loads(message.value)
                text = " ".join(
                    str(body[k]) for k in ("description", "summary", "concern", "url") if k in body
                )
                doc = nlp(text)
                es.index(
                    index=index,
                    id=f"{message.topic}:{body['id']}",
                    document={
                        "source_id": body["id"],
                        "text": text,
                        "entities": [{"text": e.text, "label": e.label_} for e in doc.ents],
                    },
                    refresh=True,
                )
                consumer.commit()
                done += 1
                if done >= len(records):
                    break
        finally:
            consumer.close()
        seconds = time.monotonic() - (started or time.monotonic())
        searchable = int(es.count(index=index)["count"]) if done else 0
    if done < len(records):
        raise RuntimeError(f"naive loop consumed {done} of {len(records)} records")
    return {
        "records": done,
        "searchable": searchable,
        "seconds": seconds,
        "rate": done / seconds,
        "deployment": dep.name,
    }


# --- end to end --------------------------------------------------------------------------


def start_and_settle(dep: Deployment, workers: int) -> float:
    """Start `workers` workers; return seconds until the group is Stable with all of them."""
    started = time.monotonic()
    dep.start_workers(workers)
    common.wait_group_stable(dep, workers)
    return time.monotonic() - started


def throughput(
    dep: Deployment, es: Elasticsearch, corpus: Corpus, workers: int, stall_s: float
) -> dict[str, Any]:
    """First publish to every valid record searchable, with `workers` running and settled."""
    expected = sum(1 for _, report in corpus if report is not None)
    startup = start_and_settle(dep, workers)
    progress(f"  {workers} worker(s) in the group after {startup:.1f}s; publishing {len(corpus)}")
    pids = {"workers": [w.process.pid for w in dep.workers], "bench": [os.getpid()]}
    pids |= {name: [pid] for name, pid in common.stack_pids(dep.settings).items()}
    meter = common.CpuMeter(pids)
    started = time.time()
    common.publish(dep.settings, [record for record, _ in corpus])
    published = time.time()
    done_at = common.wait_progress(
        lambda: common.indexed_count(es, dep.alias),
        lambda n: n >= expected,
        f"{workers} worker(s): searchable of {expected}",
        stall_s=stall_s,
        check=dep.check_workers,
    )
    cpu = meter.stop()
    seconds = done_at - started
    ours = sum(v for k, v in cpu.items() if k not in ("machine", "wall"))
    return {
        "cpu_ms_per_record": {
            k: v * 1000 / expected for k, v in cpu.items() if k not in ("machine", "wall")
        },
        # CPU share of the whole machine that other people's processes took meanwhile
        "others_share": max(cpu["machine"] - ours, 0.0) / (cpu["wall"] * (os.cpu_count() or 1)),
        "workers": workers,
        "published": len(corpus),
        "valid": expected,
        "searchable": common.indexed_count(es, dep.alias),
        "dead_lettered": common.topic_size(dep.settings, dep.dlq),
        "publish_seconds": published - started,
        "seconds": seconds,
        "rate": expected / seconds,
        "startup_seconds": startup,
    }


def _searchable_ids(es: Elasticsearch, alias: str, ids: Sequence[str]) -> list[str]:
    response = es.search(
        index=alias,
        query={"terms": {"source_id": list(ids)}},
        size=len(ids),
        source_includes=["source_id"],
    )
    return [hit["_source"]["source_id"] for hit in response["hits"]["hits"]]


def _ingested_delays(
    es: Elasticsearch, alias: str, published: dict[str, float]
) -> dict[str, float]:
    ids = list(published)
    delays: dict[str, float] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        response = es.search(
            index=alias,
            query={"terms": {"source_id": chunk}},
            size=len(chunk),
            source_includes=["source_id", "event.ingested"],
        )
        for hit in response["hits"]["hits"]:
            source = hit["_source"]
            ingested = datetime.fromisoformat(source["event"]["ingested"]).timestamp()
            delays[source["source_id"]] = ingested - published[source["source_id"]]
    return delays


def steady_latency(
    dep: Deployment,
    es: Elasticsearch,
    records: list[tuple[DemoRecord, Report]],
    rate: float,
    drain_s: float,
) -> dict[str, Any]:
    """Publish `records` at `rate`/s; poll every 100 ms for when each became searchable."""
    sends = [
        (report.source_id, record.topic, record.key, record.value) for record, report in records
    ]

    def find(ids: list[str]) -> dict[str, None]:
        return dict.fromkeys(_searchable_ids(es, dep.alias, ids))

    run = common.publish_steadily(dep, sends, rate, find, poll_s=0.1, drain_s=drain_s)
    published, started, pending = run.published, run.started, run.missing
    values = [answered - published[source_id] for source_id, (answered, _) in run.found.items()]
    ingested = list(_ingested_delays(es, dep.alias, published).values())
    return {
        "records": len(records),
        "rate_target": rate,
        "rate_achieved": len(records) / max(max(published.values()) - started, 1e-9),
        "missing": len(pending),
        "p50": common.percentile(values, 50),
        "p95": common.percentile(values, 95),
        "p99": common.percentile(values, 99),
        "max": max(values) if values else None,
        "ingested_p50": common.percentile(ingested, 50),
        "ingested_p99": common.percentile(ingested, 99),
    }


def catch_up(dep: Deployment, corpus: Corpus, workers: int, stall_s: float) -> dict[str, Any]:
    """Backlog published with no worker running; time from starting `workers` to zero lag.

    The first commit (lag below the backlog) splits it into startup (model load, group join,
    first batch) and draining.
    """
    common.publish(dep.settings, [record for record, _ in corpus])
    lag = common.LagReader(dep.settings, dep.intake)
    try:
        backlog = lag.total()
        progress(f"  backlog of {backlog} records built; starting {workers} workers")
        started = time.time()
        dep.start_workers(workers)
        first_at = common.wait_progress(
            lag.total,
            lambda n: n < backlog,
            "catch-up: lag",
            stall_s=stall_s,
            every_s=0.5,
            check=dep.check_workers,
        )
        done_at = common.wait_progress(
            lag.total,
            lambda n: n == 0,
            "catch-up: lag",
            stall_s=stall_s,
            every_s=0.5,
            check=dep.check_workers,
        )
    finally:
        lag.close()
    return {
        "workers": workers,
        "backlog": backlog,
        "seconds": done_at - started,
        "startup_seconds": first_at - started,
        "drain_rate": backlog / max(done_at - first_at, 1e-9),
    }


# --- the run -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/e2e",
        description="End-to-end benchmark of the pipeline on the local stack (issue #9): "
        "throughput with 1 and 2 workers against the NER ceiling and a naive loop, "
        "publish-to-searchable latency at a steady rate, catch-up from a backlog, worker RSS. "
        "Prints one table on stdout (progress on stderr) and writes it as JSON.",
    )
    parser.add_argument(
        "--count",
        type=int,
        default=20_000,
        help="records for throughput, ceiling and catch-up (default 20000)",
    )
    parser.add_argument("--seed", type=int, default=1, help="demo generator seed (default 1)")
    parser.add_argument(
        "--steady-s",
        type=float,
        default=60.0,
        help="seconds of steady publishing for latency (default 60)",
    )
    parser.add_argument(
        "--steady-rate", type=float, default=20.0, help="records/s for latency (default 20)"
    )
    parser.add_argument(
        "--naive-count",
        type=int,
        default=None,
        help="records for the naive loop (default min(count, 1000))",
    )
    parser.add_argument(
        "--ceiling-count",
        type=int,
        default=None,
        help="texts for the NER ceiling (default: every valid record)",
    )
    parser.add_argument(
        "--catchup-count", type=int, default=None, help="backlog size for catch-up (default: count)"
    )
    parser.add_argument(
        "--partitions",
        type=int,
        default=None,
        help="partitions per intake topic (default PIPELINE_INTAKE_PARTITIONS)",
    )
    parser.add_argument(
        "--stall-s",
        type=float,
        default=180.0,
        help="fail a wait when nothing moved for this long (default 180)",
    )
    parser.add_argument(
        "--skip", default="", help=f"comma-separated phases to skip: {','.join(PHASES)}"
    )
    parser.add_argument(
        "--worker-cmd",
        default=None,
        help="command that starts one worker, to A/B a patched worker "
        "(default: python -m pipeline worker)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON output (default bench/results/e2e-<date>.json)"
    )
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s) in --skip: {', '.join(sorted(unknown))}")
    args.skip = skip
    args.naive_count = args.naive_count or min(args.count, 1000)
    args.catchup_count = args.catchup_count or args.count
    return args


def ensure_stack(settings: Settings, es: Elasticsearch) -> None:
    """Start the local stack when it is the target and Elasticsearch does not answer."""
    if not settings.uses_local_stack:
        return
    try:
        es.cluster.health(timeout="5s")
    except Exception:
        from pipeline.dev.stack.control import up

        progress("local stack not answering; starting it")
        up(settings)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from pipeline.clients import elasticsearch_client
    from pipeline.settings import Settings

    base = Settings()
    if args.partitions:
        base = base.model_copy(update={"intake_partitions": args.partitions})
    es = elasticsearch_client(base)
    ensure_stack(base, es)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out: Path = args.out or REPO / "bench" / "results" / f"e2e-{stamp}.json"
    log_dir = out.parent / f"{out.stem}-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    progress(f"generating {args.count} records (seed {args.seed}); worker logs in {log_dir}")
    corpus = build_corpus(args.count, args.seed)
    valid = [(record, report) for record, report in corpus if report is not None]
    mislabelled = sum(
        1 for record, report in corpus if (report is None) != (record.bad is not None)
    )
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "args": {
            k: (sorted(v) if isinstance(v, set) else str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_start": os.getloadavg(),
        },
        "settings": {
            "batch_size": base.batch_size,
            "batch_timeout_s": base.batch_timeout_s,
            "partitions": base.intake_partitions,
        },
        "corpus": {"records": len(corpus), "valid": len(valid), "generator_disagrees": mislabelled},
        "deployments": [],
    }
    worker = shlex.split(args.worker_cmd) if args.worker_cmd else None
    peak_rss = 0.0
    if "ceiling" not in args.skip:
        texts = [report.text for _, report in valid][: args.ceiling_count or None]
        for n in (1, 2):
            progress(f"NER ceiling: {len(texts)} texts in {n} process(es)")
            results[f"ceiling_{n}"] = ner_ceiling(texts, n)
            progress(f"  {results[f'ceiling_{n}']['rate']:.1f} records/s")
    if "naive" not in args.skip:
        progress(f"naive loop: {args.naive_count} records, one at a time")
        results["naive"] = naive_pipeline(
            base, es, [r for r, _ in valid[: args.naive_count]], log_dir
        )
        results["deployments"].append(results["naive"]["deployment"])
        progress(f"  {results['naive']['rate']:.1f} records/s")
    if "e2e-1" not in args.skip:
        progress("end to end, 1 worker")
        with common.deployment(base, log_dir, "bench-e2e-w1", worker) as dep:
            results["deployments"].append(dep.name)
            results["e2e_1"] = throughput(dep, es, corpus, 1, args.stall_s)
            peak_rss = max(peak_rss, dep.stop_workers())
        progress(f"  {results['e2e_1']['rate']:.1f} records/s")
    if not {"e2e-2", "latency"} <= args.skip:
        with common.deployment(base, log_dir, "bench-e2e-w2", worker) as dep:
            results["deployments"].append(dep.name)
            if "e2e-2" not in args.skip:
                progress("end to end, 2 workers")
                results["e2e_2"] = throughput(dep, es, corpus, 2, args.stall_s)
                progress(f"  {results['e2e_2']['rate']:.1f} records/s")
            else:
                start_and_settle(dep, 2)
            if "latency" not in args.skip:
                records = steady_records(args)
                progress(f"latency: {len(records)} records at {args.steady_rate}/s, 2 workers")
                results["latency"] = steady_latency(
                    dep, es, records, args.steady_rate, args.stall_s
                )
                progress(f"  p99 {results['latency']['p99']}")
            peak_rss = max(peak_rss, dep.stop_workers())
    if "catchup" not in args.skip:
        progress(f"catch-up: backlog of {args.catchup_count} records, then 2 workers")
        with common.deployment(base, log_dir, "bench-e2e-catchup", worker) as dep:
            results["deployments"].append(dep.name)
            results["catchup"] = catch_up(dep, corpus[: args.catchup_count], 2, args.stall_s)
            peak_rss = max(peak_rss, dep.stop_workers())
        progress(f"  zero lag after {results['catchup']['seconds']:.1f}s")
    results["worker_peak_rss_mb"] = peak_rss or None
    results["machine"]["loadavg_end"] = os.getloadavg()
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    es.close()
    results["rows"] = table_rows(results)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    results["out"] = str(out)
    return results


def steady_records(args: argparse.Namespace) -> list[tuple[DemoRecord, Report]]:
    """Valid records for the steady phase, with ids no other phase used (another seed)."""
    wanted = max(1, round(args.steady_rate * args.steady_s))
    corpus = build_corpus(wanted + wanted // 5 + 10, args.seed + 1000)
    return [(record, report) for record, report in corpus if report is not None][:wanted]


def _rate(x: float | None) -> str:
    return "skipped" if x is None else f"{x:.1f} rec/s"


def _row(
    measure: str, value: str, target: str = "", ok: bool | None = None, note: str = ""
) -> dict[str, str]:
    verdict = "" if not target else "n/a" if ok is None else "PASS" if ok else "MISS"
    return {"measure": measure, "value": value, "target": target, "verdict": verdict, "note": note}


def _cpu_row(r: dict[str, Any], workers: int) -> dict[str, str]:
    """CPU per record by process: steadier under other people's load than wall-clock rates.

    The CPU ratio counts the pipeline's processes (workers, Elasticsearch, Kafka), not the
    bench's own producer and polling: it is the throughput ratio to the ceiling on two idle
    cores kept fully busy. On the shared stack, Elasticsearch's and Kafka's CPU includes other
    people's traffic, so the ratio errs low.
    """
    phase = r[f"e2e_{workers}"]
    cpu = phase["cpu_ms_per_record"]
    pipeline = sum(v for k, v in cpu.items() if k != "bench")
    parts = " + ".join(f"{k} {v:.1f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]))
    note = f"{parts} ms; others took {phase['others_share']:.0%} of the machine"
    ner = r.get(f"ceiling_{workers}", {}).get("cpu_ms_per_record")
    if ner:
        note += f"; NER alone {ner:.1f} ms: CPU ratio {ner / pipeline:.2f}x"
    return _row(f"CPU per record, {workers} worker(s)", f"{pipeline:.1f} ms", note=note)


def table_rows(r: dict[str, Any]) -> list[dict[str, str]]:
    """The one table: each figure, its target, the verdict, and what it was measured on."""
    rates = {
        k: float(r[k]["rate"]) if k in r else None
        for k in ("ceiling_1", "ceiling_2", "naive", "e2e_1", "e2e_2")
    }
    c1, c2, naive, e1, e2 = rates.values()
    vs_c1 = f"; {e1 / c1:.2f}x 1-proc ceiling" if e1 and c1 else ""
    vs_c2 = f"{e2 / c2:.2f}x 2-proc ceiling" if e2 and c2 else ""
    naive_n = r.get("naive", {}).get("records", 0)
    ceiling_target = f">= {TARGET_CEILING_RATIO}x ceiling" + (
        f" = {TARGET_CEILING_RATIO * c2:.1f}" if c2 else ""
    )
    rows = [
        _row(
            "NER ceiling, 1 process",
            _rate(c1),
            note=f"nlp.pipe, NER only, {r.get('ceiling_1', {}).get('texts', 0)} texts",
        ),
        _row("NER ceiling, 2 processes", _rate(c2), note="one model per process"),
        _row(
            "naive loop, 1 process",
            _rate(naive),
            note=f"full spaCy, refresh + commit per record; {naive_n} records",
        ),
        _row(
            "end to end, 1 worker",
            _rate(e1),
            note=f"publish -> {r['corpus']['valid']} searchable{vs_c1}",
        ),
        _row(
            "end to end, 2 workers",
            _rate(e2),
            ceiling_target,
            None if not (e2 and c2) else e2 >= TARGET_CEILING_RATIO * c2,
            vs_c2,
        ),
        _row(
            "2 workers vs naive",
            f"{e2 / naive:.1f}x" if e2 and naive else "skipped",
            f">= {TARGET_NAIVE_RATIO:.0f}x",
            None if not (e2 and naive) else e2 >= TARGET_NAIVE_RATIO * naive,
        ),
    ]
    rows += [_cpu_row(r, n) for n in (1, 2) if f"e2e_{n}" in r]
    lat = r.get("latency")
    if lat and lat["p99"] is not None:
        ok = lat["p99"] <= TARGET_P99_S and lat["missing"] == 0
        shape = (
            f"{lat['records']} at {lat['rate_achieved']:.1f}/s, 2 workers; missing {lat['missing']}"
        )
        rows.append(
            _row(
                "publish -> searchable p50/p95/p99",
                f"{lat['p50']:.2f}/{lat['p95']:.2f}/{lat['p99']:.2f} s",
                f"p99 <= {TARGET_P99_S:.0f} s",
                ok,
                shape,
            )
        )
        rows.append(
            _row(
                "publish -> ingested p50/p99",
                f"{lat['ingested_p50']:.2f}/{lat['ingested_p99']:.2f} s",
                note="event.ingested: before bulk + refresh",
            )
        )
    else:
        rows.append(
            _row("publish -> searchable p50/p95/p99", "skipped", f"p99 <= {TARGET_P99_S:.0f} s")
        )
    up = r.get("catchup")
    drain = ""
    if up:
        drain = f"backlog {up['backlog']}, 2 workers: first commit at {up['startup_seconds']:.1f} s"
        drain += f", then {up['drain_rate']:.1f} rec/s"
    rows.append(
        _row("catch-up to zero lag", f"{up['seconds']:.1f} s" if up else "skipped", note=drain)
    )
    rss = r.get("worker_peak_rss_mb")
    rows.append(
        _row(
            "worker peak RSS (VmHWM)",
            f"{rss:.0f} MB" if rss else "skipped",
            f"<= {TARGET_RSS_MB:.0f} MB",
            None if not rss else rss <= TARGET_RSS_MB,
        )
    )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    results = run(args)
    print(common.format_table(results["rows"], ["measure", "value", "target", "verdict", "note"]))
    progress(f"written {results['out']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
