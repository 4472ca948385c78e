"""How long one long narrative holds its partition: validation, enrichment, dedup keys, document.

Run: .venv/bin/python -m bench.long_text [--sizes 100000,500000] [--rounds 3]

A record may carry a narrative up to the intake's 512 KiB record limit (a narrative has no
limit of its own). For each size this builds a public report of that many bytes of report
prose (bench/enrich.py's generator) with mentions at its very end, and times, in one process,
the per-record CPU work of the batch path: `parse_record`, `Enricher.enrich` (NER over at most
NER_MAX_CHARS in pieces, the exact extractors and the gazetteer over all of it), the dedup keys
(fingerprint and MinHash) and the index document. A last line does the same for the costliest
text known to the exact extractors (distinct valid phone numbers, bench/extractors.py) at the
largest size. Time is CPU time, the best of `--rounds`, so figures are per core; compare them
with the record budget (`PIPELINE_RECORD_BUDGET_S`), which a valid record must never reach.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bench.extractors import SHAPES, plain_text
from pipeline.enrich.dedup import minhash
from pipeline.enrich.dedup.text import fingerprint, shingles
from pipeline.enrich.extract import Enricher
from pipeline.enrich.ner import NER_MAX_CHARS, ner_chunks
from pipeline.index.document import build_document
from pipeline.ingest.records import RawRecord
from pipeline.ingest.validate import MAX_RECORD_BYTES, parse_record
from pipeline.settings import Settings

ENDING = "\n\nRing 0161  496  0229 or write to tips@example.org about ab12 cde near s1 2hh."


def record_of(narrative: str) -> RawRecord:
    body = {"id": "long", "received_at": "2026-12-02T09:00:00Z", "description": narrative}
    value = json.dumps(body, ensure_ascii=False).encode()
    return RawRecord(topic="intake.public-reports", partition=0, offset=0, key=b"long", value=value)


def best(call: Callable[[], object], rounds: int) -> float:
    least = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        call()
        least = min(least, time.process_time() - start)
    return least


def measure(enricher: Enricher, narrative: str, rounds: int) -> dict[str, float]:
    """CPU seconds of each per-record step for one record carrying `narrative`."""
    raw = record_of(narrative)
    report = parse_record(raw)
    [enrichment] = enricher.enrich([report])
    assert any(m.start >= len(narrative) - len(ENDING) for m in enrichment.mentions)
    nlp = enricher._nlp  # the very object the stage uses
    pieces = [narrative[start:end] for start, end in ner_chunks(narrative).chunks]
    return {
        "validate": best(lambda: parse_record(raw), rounds),
        "enrich": best(lambda: enricher.enrich([report]), rounds),
        "of which NER": best(lambda: list(nlp.pipe(pieces)), rounds),
        "dedup keys": best(
            lambda: (fingerprint(report.text), minhash.signature(shingles(report.text, 3), 128)),
            rounds,
        ),
        "document": best(
            lambda: json.dumps(
                build_document(report, enrichment, None, ingested_at=datetime.now(UTC))
            ),
            rounds,
        ),
        "truncated": float(enrichment.truncated),
    }


def line(label: str, times: dict[str, float]) -> str:
    total = times["validate"] + times["enrich"] + times["dedup keys"] + times["document"]
    mark = "entities_truncated" if times["truncated"] else "read whole"
    return (
        f"{label:<40}{total:>7.2f} s  (enrich {times['enrich']:.2f} s, of which NER"
        f" {times['of which NER']:.2f} s; validate {times['validate']:.3f} s, dedup keys"
        f" {times['dedup keys']:.2f} s, document {times['document']:.3f} s; {mark})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,500000", help="narrative sizes in bytes")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    enricher = Enricher.load()
    enricher.enrich_texts(["Warm up with John Smith in Leeds."])
    budget = Settings.model_fields["record_budget_s"].default
    print(f"one record per size, CPU seconds per core, best of {args.rounds}")
    print(f"NER reads {NER_MAX_CHARS:,} characters at most; record budget {budget:g} s")
    for size in sizes:
        if size > MAX_RECORD_BYTES - 200:
            raise SystemExit(f"{size} bytes does not fit in a {MAX_RECORD_BYTES}-byte record")
        narrative = plain_text(size - len(ENDING)) + ENDING
        label = f"{size // 1000} KB narrative (report prose)"
        print(line(label, measure(enricher, narrative, args.rounds)))
    worst = SHAPES["distinct numbers in a row"](max(sizes) - len(ENDING)) + ENDING
    label = f"{max(sizes) // 1000} KB of distinct phone numbers"
    print(line(label, measure(enricher, worst, args.rounds)))


if __name__ == "__main__":
    main()
