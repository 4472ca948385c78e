"""Dedup cost per report with small and large state already in Elasticsearch, side by side.

    .venv/bin/python -m bench.dedup --sizes 10000,1000000 --batches 20 --batch-size 200

Synthetic state is bulk-loaded directly, with the same key scheme the deduplicator writes
(claims for the exact fingerprint and every LSH band, one answer document per report), so
reaching 1M reports takes minutes rather than hours of NER. Each measured batch then runs
the real `Deduplicator.assign` on fresh reports, half of them near duplicates of each other.
The state index is deleted at the end unless --keep is given.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch, helpers

from pipeline.clients import elasticsearch_client
from pipeline.enrich.dedup import Deduplicator, minhash
from pipeline.enrich.dedup.keys import DedupParams
from pipeline.enrich.dedup.state import state_index
from pipeline.enrich.mentions import Enrichment
from pipeline.ingest.report import Origin, Report
from pipeline.ingest.sources import Source
from pipeline.settings import Settings

WORDS = (  # noqa: SIM905
    "van car man woman station platform bag holdall parked outside mosque church school "
    "night morning evening drone video channel post threat knife bridge flat neighbour "
    "smell chemicals deliveries fireworks garage photographs cameras gates notes "
    "registration white black silver red blue grey hoodie rucksack controller stewards "
    "taxi rank seen left walked ran drove shouting waving carrying loading boxes sacks "
    "jars nails heavy two three four weeks days hours minutes yesterday today lane road "
    "street avenue park "
).split()


def synthetic_docs(
    index: str, start: int, count: int, params: DedupParams
) -> Iterator[dict[str, Any]]:
    """State documents of `count` unrelated synthetic reports (random signatures)."""
    rng = np.random.default_rng(start)
    for offset in range(count):
        number = start + offset
        report = f"bench{number:027d}"[:32]
        signature = rng.integers(0, 2**32 - 1, size=params.num_perm, dtype=np.uint32)
        claim = {"c": report, "r": report}
        yield {
            "_index": index,
            "_id": f"r:{report}",
            "_source": {"c": report, "d": False, "s": minhash.encode(signature)},
        }
        yield {"_index": index, "_id": f"fp:{secrets.token_hex(16)}", "_source": claim}
        for key in minhash.band_keys(signature, params.bands, params.rows):
            yield {"_index": index, "_id": key, "_source": claim}


def load(es: Elasticsearch, index: str, have: int, want: int, params: DedupParams) -> None:
    """Bulk-load synthetic reports until the state holds `want`, printing progress."""
    if want <= have:
        return
    es.indices.put_settings(index=index, settings={"index": {"refresh_interval": "-1"}})
    started = time.monotonic()
    step = 50_000
    for chunk_start in range(have, want, step):
        count = min(step, want - chunk_start)
        for ok, item in helpers.streaming_bulk(
            es,
            synthetic_docs(index, chunk_start, count, params),
            chunk_size=5000,
            raise_on_error=True,
        ):
            assert ok, item
        done = chunk_start + count
        rate = (done - have) / (time.monotonic() - started)
        print(f"  loaded {done:>9,} reports ({rate:,.0f} reports/s)", flush=True)
    es.indices.put_settings(index=index, settings={"index": {"refresh_interval": None}})
    es.indices.refresh(index=index)
    es.indices.forcemerge(index=index, max_num_segments=8, wait_for_completion=True)


def text(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=60)) + "."


def measure(dedup: Deduplicator, batches: int, batch_size: int, tag: str) -> list[float]:
    """Milliseconds per report of each batch (after one warm-up batch)."""
    rng = random.Random(tag)
    timings: list[float] = []
    for number in range(batches + 1):
        reports: list[Report] = []
        for i in range(batch_size):
            # Pairs: every odd report is a near duplicate of the one before it.
            body = text(rng) if i % 2 == 0 else "Hello, " + reports[-1].text
            reports.append(
                Report(
                    source=Source.PUBLIC_REPORT,
                    source_id=f"{tag}-{number}-{i}",
                    received_at=datetime(2025, 1, 1, tzinfo=UTC),
                    text=body,
                    origin=Origin(topic="bench", partition=0, offset=i),
                )
            )
        started = time.perf_counter()
        dedup.assign(reports, [Enrichment() for _ in reports])
        elapsed = time.perf_counter() - started
        if number:
            timings.append(elapsed * 1000 / batch_size)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="10000,1000000", help="State sizes (reports), ascending."
    )
    parser.add_argument("--batches", type=int, default=20, help="Measured batches per size.")
    parser.add_argument("--batch-size", type=int, default=200, help="Reports per batch.")
    parser.add_argument(
        "--alias",
        default=f"bench-dedup-{secrets.token_hex(3)}",
        help="Alias whose state index is used.",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the state index afterwards.")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))

    settings = Settings().model_copy(update={"index_alias": args.alias})
    es = elasticsearch_client(settings, request_timeout=600)
    dedup = Deduplicator(es, settings)
    dedup.ensure()
    index = state_index(args.alias)
    params = dedup.params
    print(
        f"state index {index}: {params.bands} bands x {params.rows} rows, {params.num_perm} perms"
    )
    rows: list[tuple[int, float, float, int]] = []
    have = 0
    try:
        for size in sizes:
            print(f"state of {size:,} reports:", flush=True)
            load(es, index, have, size, params)
            have = size
            docs = es.count(index=index)["count"]
            timings = measure(dedup, args.batches, args.batch_size, f"s{size}")
            rows.append((size, statistics.median(timings), statistics.mean(timings), docs))
            print(
                f"  median {rows[-1][1]:.3f} ms/report, mean {rows[-1][2]:.3f} ms/report",
                flush=True,
            )
    finally:
        if not args.keep:
            es.indices.delete(index=index, ignore_unavailable=True)
            es.indices.delete_index_template(name=index)
    print()
    print(
        f"{'state reports':>14} {'state docs':>12} {'median ms/report':>17} {'mean ms/report':>15}"
    )
    for size, median, mean, docs in rows:
        print(f"{size:>14,} {docs:>12,} {median:>17.3f} {mean:>15.3f}")
    if len(rows) > 1:
        ratio = rows[-1][1] / rows[0][1]
        verdict = "within" if ratio <= 2 else "OVER"
        print(f"ratio largest/smallest (median): {ratio:.2f}x ({verdict} the 2x bound)")


if __name__ == "__main__":
    main()
