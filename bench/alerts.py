"""Watch matching cost per report with 1,000, 10,000 and 100,000 live entries, side by side.

Run: .venv/bin/python -m bench.alerts [--reports 2000] [--reps 5] [--sizes 1000,10000,100000]

The reports are bench/enrich.py's generated texts through the real exact extractors, plus
the people and organisations the generator wrote, cleaned as the enrich stage cleans NER's
spans (no model is loaded: matching only reads mentions). Every watchlist holds the same
`--hot` entries on values the reports use, so each size does the same matched work, and
fills the rest with entries on values no report holds, in equal shares of the eight target
types: only the index grows. Time is this process's CPU time over all reports, the best of
`--reps` rounds; p50 and p99 are per-report wall times in the fastest round. Targets (issue
13): <= 2 ms per report at 10,000 entries and <= 3x that at 100,000.
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from bench.common import format_table, percentile, progress
from bench.enrich import FIRST, LAST, ORGS, make_text
from pipeline.enrich.exact import extract_exact, normalise_phone
from pipeline.enrich.mentions import Enrichment, EntityType
from pipeline.enrich.names import clean_entity
from pipeline.enrich.regions import POSTCODE_AREAS
from pipeline.enrich.watch import WatchEntry, Watchlist

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=5, help="rounds per size (best counts)")
    parser.add_argument(
        "--sizes", default="1000,10000,100000", help="live entries, comma-separated"
    )
    parser.add_argument("--hot", type=int, default=50, help="entries on values reports use")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    rng = random.Random(7)
    enrichments = [enrichment(make_text(rng)) for _ in range(args.reports)]
    mentions = sum(len(e.mentions) for e in enrichments) / len(enrichments)
    hot = hot_targets(enrichments, args.hot)
    filler = filler_targets(max(sizes) - len(hot))
    rows, cost = [], {}
    for size in sizes:
        progress(f"{size:,} entries: creating")
        start = time.process_time()
        watched = watchlist(hot + filler[: size - len(hot)])
        build = time.process_time() - start
        progress(f"{size:,} entries: matching {len(enrichments):,} reports x {args.reps}")
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
    print(
        f"{len(enrichments):,} reports, {mentions:.1f} mentions each on average, "
        f"{len(hot)} entries on values reports use, best of {args.reps}"
    )
    print(format_table(rows, list(rows[0])))
    if 10_000 in cost:
        print(f"at 10,000 entries: {cost[10_000] / 1000:.3f} ms/report (target <= 2 ms)")
    if {10_000, 100_000} <= cost.keys():
        print(f"100,000 / 10,000: {cost[100_000] / cost[10_000]:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
