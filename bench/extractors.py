"""Time per character of every extractor and normaliser on adversarial shapes and on plain text.

Run: .venv/bin/python -m bench.extractors [--chars 100000] [--reps 3] [--all]

One record may hold a narrative of up to 512 KiB (the intake's record limit; a narrative has
no limit of its own), written by anyone, so no extractor may be super-linear on any shape of
text; 100,000 characters (the default) are enough to show it, and a linear probe costs 5x
that at 500,000. Each probe (an extractor, the whole exact pass, the overlap rule, the
normalisers, names, places, region, grouping and the dedup keys) runs on plain report prose
(bench/enrich.py's generator) and on each adversarial shape below, all of the same length, in
one process, with the phone cache emptied before each run. Time is this process's CPU time,
the best of `--reps` runs. The table prints, per probe, the plain time per character, the
worst shape and its time per character, each also as milliseconds per 100 KB, and the ratio
of the worst shape to the exact pass on plain prose (tests/enrich/test_entities_adversarial.py
asserts it stays <= 20x). `--all` prints every probe on every shape.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from bench.enrich import make_text
from pipeline.enrich.dedup import minhash
from pipeline.enrich.dedup.text import fingerprint, shingles
from pipeline.enrich.exact import (
    EXTRACTORS,
    canonical_url,
    extract_email,
    extract_exact,
    extract_handle,
    extract_phone,
    extract_postcode,
    extract_url,
    extract_vehicle,
    normalise_phone,
    normalise_postcode,
    normalise_vehicle,
    resolve_overlaps,
)
from pipeline.enrich.locate import derive_region
from pipeline.enrich.mentions import Enrichment, EntityType
from pipeline.enrich.names import clean_entity
from pipeline.enrich.ner import place_mentions
from pipeline.enrich.places import find_places

# Long enough that a super-linear probe shows; ratios and ns/char hold at any length beyond.
DEFAULT_CHARS = 100_000

# A probe prepares its input from a text (untimed) and returns the call to time.
Probe = Callable[[str], Callable[[], object]]


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


def _after(prefix: str, unit: str) -> Callable[[int], str]:
    return lambda n: (prefix + _repeat(unit)(n))[:n]


def _numbered(template: str) -> Callable[[int], str]:
    """Distinct values (so no cache helps): `template` formatted with 0, 1, 2 ..."""

    def make(n: int) -> str:
        parts: list[str] = []
        size, i = 0, 0
        while size < n:
            parts.append(template.format(i % 1000, i // 1000 % 1000))
            size += len(parts[-1])
            i += 1
        return "".join(parts)[:n]

    return make


def _random_groups(groups: tuple[str, ...], seed: int = 11) -> Callable[[int], str]:
    """Digit groups drawn at random, so the candidates differ and no cache helps."""

    def make(n: int) -> str:
        rng = random.Random(seed)
        return " ".join(rng.choice(groups) for _ in range(n // 2))[:n]

    return make


def plain_text(n: int, seed: int = 7) -> str:
    """Report prose of exactly `n` characters: names, places, phones, plates, URLs, handles."""
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < n:
        parts.append(make_text(rng) + "\n\n")
        size += len(parts[-1])
    return "".join(parts)[:n]


# Shapes that make regexes backtrack, candidate loops multiply and mention lists explode.
SHAPES: dict[str, Callable[[int], str]] = {
    "plain prose": plain_text,
    "one digit run": _repeat("1"),
    "zeros": _repeat("0"),
    "digits split by spaces": _repeat("1 "),
    "zeros split by spaces": _repeat("0 "),
    "digit pairs split by spaces": _repeat("07 "),
    "digits split by dots": _repeat("1."),
    "digits split by dashes": _repeat("1-"),
    "digits split by ' - '": _repeat("1 - "),
    "digits in brackets": _repeat("(1) "),
    "digits and open brackets": _repeat("1 ("),
    "plus signs and digits": _repeat("+4"),
    "zero-led digit pairs": _random_groups(("00", "01", "10", "07")),
    "zero-led digits": _random_groups(("0", "0", "1", "7")),
    "+ and digits split by spaces": _repeat("+1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 "),
    "phone numbers in a row": _repeat("07700 900123 "),
    "distinct numbers in a row": _numbered("0161 496 0{0:03d} "),
    "distinct +44 numbers": _numbered("+44 20 7946 {1:01d}{0:03d} "),
    "separators only": _repeat(" .-()"),
    "many @": _repeat("@"),
    "many dots": _repeat("."),
    "a.a.a.a": _repeat("a."),
    "x@x@x@x": _repeat("x@"),
    "email with endless host": _after("x@", "a."),
    "email with dashed host": _after("x@", "a-"),
    "@ between dashes": _repeat("a-@"),
    "email-like local parts": _repeat("a.b-c+d%"),
    "distinct emails": _numbered("u{0}.{1}@example.com "),
    "http:// repeated": _repeat("http://"),
    "www. repeated": _repeat("www."),
    "bare platform links": _repeat("youtube.com/ "),
    "URL then dots": _after("http://a.com/", "."),
    "URL then closing brackets": _after("http://a.com/", ")"),
    "URL with brackets": _after("http://a.com/", "(a)"),
    "distinct URLs": _numbered("https://t.me/c{0}?utm_source={1} "),
    "plates": _repeat("AB12 CDE "),
    "plates glued": _repeat("AB12CDE"),
    "old plates": _repeat("A123 BCD ABC 123D "),
    "postcodes": _repeat("M1 1AE "),
    "postcodes glued": _repeat("SW1A1AA"),
    "handles": _repeat("@ab "),
    "distinct handles": _numbered("@u{0}_{1} "),
    "handle chain": _repeat("@a.b"),
    "places": _repeat("Leeds "),
    "place prefixes": _repeat("newcastle upon "),
    "places between postcodes": _repeat("Leeds M1 1AE "),
    "titles and roles": _repeat("the Mr "),
    "trailing words": _after("John", " to"),
    "odd whitespace": _repeat("x\u00a0\u2003\x0b"),
    "digits split by whitespace runs": _repeat("1 \t\u00a0\n "),
    "digits split by slashes": _repeat("1/"),
    "digits split by ' / '": _repeat("0 / "),
    "digits split by ' ( '": _repeat("0 ( "),
    "full-width digits split by spaces": _repeat("\uff10\u3000"),
    "wide, dashed and invisible": _repeat("\uff10\u2013\u200b\u3000\uff21"),
    "full-width plates": _repeat("\uff21\uff22\uff11\uff12\u3000\uff23\uff24\uff25 "),
    "postcodes over line breaks": _repeat("m1\n1ae\n"),
    "plates over whitespace runs": _repeat("ab12 \t\u00a0cde "),
    "mixed tokens": _repeat("ab12 cde m1 1ae @x x@y.co 07700 900123 www.a.com "),
}


def _probe(function: Callable[[str], object]) -> Probe:
    # A fresh phone cache each time: an adversary's candidates are new to it.
    return lambda text: lambda: (normalise_phone.cache_clear(), function(text))


def _overlaps(text: str) -> Callable[[], object]:
    candidates = [m for extract in EXTRACTORS for m in extract(text)]
    return lambda: resolve_overlaps(candidates)


def _normalisers(text: str) -> Callable[[], object]:
    # The phone normaliser's cache would make every repetition after the first free.
    phone = normalise_phone.__wrapped__
    return lambda: (
        phone(text),
        normalise_postcode(text),
        normalise_vehicle(text),
        canonical_url(text),
    )


def _name(text: str) -> Callable[[], object]:
    return lambda: clean_entity(text, 0, len(text), EntityType.PERSON)


def _places(text: str) -> Callable[[], object]:
    taken = extract_exact(text)
    return lambda: place_mentions(text, taken)


def _region(text: str) -> Callable[[], object]:
    mentions = extract_exact(text) + place_mentions(text)
    return lambda: derive_region(mentions, text, text)


def _grouping(text: str) -> Callable[[], object]:
    mentions = extract_exact(text) + place_mentions(text)
    return lambda: Enrichment.from_mentions(mentions, None)


def _dedup(text: str) -> Callable[[], object]:
    return lambda: (fingerprint(text), minhash.signature(shingles(text, 3), 128))


PROBES: dict[str, Probe] = {
    "email": _probe(extract_email),
    "url": _probe(extract_url),
    "handle": _probe(extract_handle),
    "phone": _probe(extract_phone),
    "vehicle": _probe(extract_vehicle),
    "postcode": _probe(extract_postcode),
    "exact pass": _probe(extract_exact),
    "resolve_overlaps": _overlaps,
    "normalisers": _normalisers,
    "name cleaning": _name,
    "gazetteer places": _probe(find_places),
    "place mentions": _places,
    "region": _region,
    "grouping": _grouping,
    "dedup keys": _dedup,
}


def best_time(call: Callable[[], object], reps: int, good_enough: float = 0.0) -> float:
    """Least CPU time of up to `reps` calls; stops early once a call takes <= `good_enough`."""
    best = float("inf")
    for _ in range(reps):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
        if best <= good_enough:
            break
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=DEFAULT_CHARS, help="length of every text")
    parser.add_argument("--reps", type=int, default=3, help="runs per measurement (best counts)")
    parser.add_argument("--all", action="store_true", help="print every probe on every shape")
    args = parser.parse_args()
    n = args.chars
    texts = {shape: make(n) for shape, make in SHAPES.items()}
    table = {
        name: {shape: best_time(probe(text), args.reps) for shape, text in texts.items()}
        for name, probe in PROBES.items()
    }
    # The yardstick: the exact pass on plain prose, the best of its own extra runs too.
    again = best_time(PROBES["exact pass"](texts["plain prose"]), max(args.reps, 5))
    table["exact pass"]["plain prose"] = baseline = min(table["exact pass"]["plain prose"], again)

    def per_100kb(seconds: float) -> float:
        return seconds / n * 100_000 * 1000

    print(f"{n:,} characters per text, {len(SHAPES) - 1} adversarial shapes, best of {args.reps}")
    print(f"baseline: the exact pass on plain prose, {baseline / n * 1e9:.0f} ns/char")
    header = f"{'probe':<18}{'plain ns/char':>14}{'ms/100KB':>10}  {'worst shape':<28}"
    print(header + f"{'ns/char':>9}{'ms/100KB':>10}{'x baseline':>11}")
    for name, times in table.items():
        plain = times.pop("plain prose")
        worst = max(times, key=times.__getitem__)
        print(
            f"{name:<18}{plain / n * 1e9:>14.0f}{per_100kb(plain):>10.1f}  {worst:<28}"
            f"{times[worst] / n * 1e9:>9.0f}{per_100kb(times[worst]):>10.1f}"
            f"{times[worst] / baseline:>10.1f}x"
        )
        if args.all:
            for shape, seconds in sorted(times.items(), key=lambda p: -p[1]):
                print(
                    f"    {shape:<44}{seconds / n * 1e9:>9.0f} ns/char{seconds / baseline:>8.1f}x"
                )


if __name__ == "__main__":
    main()
