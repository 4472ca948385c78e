"""Perturbed copies of the labelled reports: every exact mention respaced, recased and widened.

Each exact mention of the eval set is rewritten the ways people and their software write it,
within what its format allows (and what the extractors promise, README "Entities"):

- phone: every gap between digit groups a random run of whitespace (doubled spaces, tabs,
  no-break, thin and ideographic spaces, line breaks); or all gaps one separator (`.`, `-`,
  an en dash, a full-width dash; `/` in a national number); or the groups run together;
  digits full-width, all or some;
- postcode: the gap between outward and inward code any whitespace run or none; any case;
  digits or everything full-width;
- vehicle: the gap(s) any whitespace run (none too, where the format has an optional space);
  current marks (`AB12 CDE`) in any case, the spaced and older formats in capitals as the
  extractor takes them; digits or everything full-width;
- email and handle: any case; url: scheme and host in any case (the path keeps its case: it is
  part of the address).

The space before and after each mention becomes a random whitespace run too, and the text
around the mentions is sometimes shouted, put in lower case or has every space respaced, so
the hard negatives (dates, prices, references) are seen written those ways as well. Other
mentions (NER's) are dropped from the copy: only exact types are scored on it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from pipeline.enrich.accuracy import EXACT_TYPES, GoldReport
from pipeline.enrich.mentions import EntityType, Mention

__all__ = ["SPACES", "perturb_gold", "perturb_mention", "perturb_report"]

SPACES = (
    " ", "  ", "   ", "\t", " \t", "\u00a0", "\u2009", "\u202f", "\u2003", "\u3000",
    "\n", " \n", "\r\n", "\u00a0 ",
)  # fmt: skip
_FULL_WIDTH = 0xFEE0
_DIGIT_GROUPS = re.compile(r"(\d+)")
_WHITESPACE_RUN = re.compile(r"\s+")


def _space(rng: random.Random) -> str:
    return rng.choice(SPACES)


def _widen(written: str, rng: random.Random, letters: bool) -> str:
    """Digits (and letters, if `letters`) full-width: all of them, some, or none."""
    style = rng.random()
    if style < 0.6:
        return written
    every = style < 0.85

    def wide(ch: str) -> str:
        widens = (ch.isdigit() or (letters and ch.isalpha())) and ch.isascii()
        if widens and (every or rng.random() < 0.5):
            return chr(ord(ch) + _FULL_WIDTH)
        return ch

    return "".join(map(wide, written))


def _recase(written: str, rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        return written.lower()
    if style == 1:
        return written.upper()
    if style == 2:
        return written.title()
    return "".join(ch.upper() if rng.random() < 0.5 else ch.lower() for ch in written)


def _phone(written: str, rng: random.Random) -> str:
    parts = _DIGIT_GROUPS.split(written)  # [before, digits, gap, digits, ..., after]
    gaps = parts[2:-1:2]
    one_by_one = all(len(group) == 1 for group in parts[1::2][1:])
    style = rng.randrange(3)
    if style == 0:  # respaced
        gaps = [_WHITESPACE_RUN.sub(lambda _: _space(rng), gap) for gap in gaps]
    elif style == 1 and not one_by_one and set(gaps) <= {" ", "-", ".", "/"}:
        # one separator throughout; a slash only in a national number ("0161/496/0229")
        separators = ["-", ".", "\u2013", "\uff0d", " - "]
        if not written.startswith("+"):
            separators.append("/")
        gaps = [rng.choice(separators)] * len(gaps)
    else:  # run together, brackets kept: "+44(0)1270496012"
        gaps = [gap if gap.strip() else "" for gap in gaps]
    parts[2:-1:2] = gaps
    return _widen("".join(parts), rng, letters=False)


def _postcode(written: str, rng: random.Random) -> str:
    compact = "".join(written.split())
    gap = rng.choice(["", *SPACES])
    recased = _recase(f"{compact[:-3]}\x00{compact[-3:]}", rng).replace("\x00", gap)
    return _widen(recased, rng, letters=rng.random() < 0.3)


_CURRENT = re.compile(r"([A-Z]{2}[0-9]{2})\s*([A-Z]{3})", re.IGNORECASE)
_SPACED = re.compile(r"([A-Z]{2})\s+([0-9]{2})\s+([A-Z]{3})")
_GROUPS = re.compile(r"([A-Z]+|[0-9]+)")


def _vehicle(written: str, rng: random.Random) -> str:
    if (spaced := _SPACED.fullmatch(written)) is not None:
        out = _space(rng).join(spaced.groups())  # capitals only, a gap where each space is
    elif (current := _CURRENT.fullmatch(written)) is not None:
        out = _recase(current.group(1), rng) + rng.choice(["", *SPACES])
        out += _recase(current.group(2), rng)
    else:  # prefix, suffix, Northern Ireland: capitals; the gap where the space was, or none
        head, _, tail = written.partition(" ")
        if not tail:  # written without one: between the first two groups
            groups = _GROUPS.findall(written)
            head, tail = groups[0], "".join(groups[1:])
        out = head + rng.choice(["", *SPACES]) + tail
    return _widen(out, rng, letters=rng.random() < 0.3)


def _url(written: str, rng: random.Random) -> str:
    scheme, sep, rest = written.partition("://") if "://" in written else ("", "", written)
    host, slash, path = rest.partition("/")
    return _recase(scheme, rng) + sep + _recase(host, rng) + slash + path


def _handle(written: str, rng: random.Random) -> str:
    return "@" + _recase(written[1:], rng)


_PERTURB: dict[EntityType, Callable[[str, random.Random], str]] = {
    EntityType.PHONE: _phone,
    EntityType.POSTCODE: _postcode,
    EntityType.VEHICLE: _vehicle,
    EntityType.EMAIL: _recase,
    EntityType.HANDLE: _handle,
    EntityType.URL: _url,
}


def perturb_mention(mention: Mention, rng: random.Random) -> str:
    """A new written form of an exact mention, with the same normal value."""
    return _PERTURB[mention.type](mention.text, rng)


def _around(piece: str, rng: random.Random, style: int, after: bool, before: bool) -> str:
    """Text between mentions, perhaps recased or respaced; a space next to a mention respaced.

    `after`: the piece follows a mention; `before`: a mention follows it.
    """
    if style == 1:
        piece = piece.lower()
    elif style == 2:
        piece = piece.upper()
    elif style == 3:  # every space of the hard negatives ("crime ref 0123 456") a random run
        piece = re.sub(" ", lambda _: _space(rng), piece)
    if piece == " " and (after or before):
        return _space(rng)
    if after and piece[:1] == " ":
        piece = _space(rng) + piece[1:]
    if before and piece[-1:] == " ":
        piece = piece[:-1] + _space(rng)
    return piece


def perturb_report(report: GoldReport, rng: random.Random) -> GoldReport:
    """The report with each exact mention perturbed, offsets recomputed; NER mentions dropped."""
    exact = [m for m in report.mentions if m.type in EXACT_TYPES]
    # The text around the mentions: as written, in lower case, shouted, or respaced.
    style = rng.randrange(4)
    pieces: list[str] = []
    mentions: list[Mention] = []
    position = length = 0
    for n, mention in enumerate(exact):
        before = _around(report.text[position : mention.start], rng, style, n > 0, True)
        pieces.append(before)
        length += len(before)
        written = perturb_mention(mention, rng)
        mentions.append(
            Mention(mention.type, written, mention.value, length, length + len(written))
        )
        pieces.append(written)
        length += len(written)
        position = mention.end
    pieces.append(_around(report.text[position:], rng, style, bool(exact), False))
    return GoldReport(report.id, report.style, "".join(pieces), tuple(mentions))


def perturb_gold(gold: list[GoldReport], rng: random.Random) -> list[GoldReport]:
    """A perturbed copy of every report."""
    return [perturb_report(report, rng) for report in gold]


def main() -> None:
    """Print the exact types' scores on `--copies` perturbed copies of the set, pooled."""
    import argparse

    from pipeline.enrich.accuracy import TypeScore, format_scores, load_gold, score
    from pipeline.enrich.exact import extract_exact

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    gold, rng = load_gold(), random.Random(args.seed)
    pooled = {kind: TypeScore() for kind in sorted(EXACT_TYPES)}
    for _ in range(args.copies):
        copy = perturb_gold(gold, rng)
        for kind, entry in score(copy, [extract_exact(r.text) for r in copy], EXACT_TYPES).items():
            pooled[kind].true_positives += entry.true_positives
            pooled[kind].false_positives += entry.false_positives
            pooled[kind].false_negatives += entry.false_negatives
            pooled[kind].errors += entry.errors
    print(f"{args.copies} perturbed copies of {len(gold)} reports, seed {args.seed}")
    print(format_scores(pooled))
    for report_id, what, mention in (e for s in pooled.values() for e in s.errors[:20]):
        print(f"{report_id}: {what} {mention.type.value} {mention.text!r}")


if __name__ == "__main__":
    main()
