"""Telephone numbers in free text, normalised to E.164 with phonenumbers (GB by default)."""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache

import phonenumbers

from pipeline.enrich.exact.fold import fold
from pipeline.enrich.mentions import EntityType, Mention

__all__ = ["extract_phone", "normalise_phone"]

# A run of digits split by gaps, as people write numbers ("07700 900123", "0161-496-0123",
# "0161/496 0229", "+44 (0)20 7946 0123", "0 7 7 0 0 ...", "0161  496\t0229"): a gap is any
# run of whitespace, or one dot, dash, slash or bracket with whitespace either side or none.
# The regex reads the folded text (exact/fold.py: every Unicode space a space, full-width
# digits ASCII) and only proposes candidates; phonenumbers.parse decides. This is ~2x cheaper
# than PhoneNumberMatcher (FACTS.md) and lets us reject dates, prices and references up front.
# Each alternative of a gap starts differently or needs its own character, so no gap can be
# matched two ways: a run that fails costs time in proportion to its length, never more.
_GAP = r"(?:\s*[.\-/]\s*|\s*\(\s*|\s*\)\s*|\s+)?"
_RUN = re.compile(rf"(?<![\w+£$€/.\-])[+(]?\d(?:{_GAP}\d)+(?![\w/]|[.,:\-]\d)")
_GROUP = re.compile(r"\d+")
# Where one number may end and the next begin: whitespace, alone or around a dash or slash
# ("0161 496 0229 / 07700 900123"), or before a bracket ("0161 496 0229 (07700 900123)").
# Never at a bare dot, dash or slash: that would find "numbers" inside versions and dates.
_BETWEEN = re.compile(r"\s+(?:[\-/]\s+|\(\s*)?")
# A lone leading 0 means the number is spelt out digit by digit, and all of it then is.
_SPACED_OUT = re.compile(r"0\s")
_DIGIT_BY_DIGIT = re.compile(r"\d(?:\s+\d)+")
# People who write numbers with dots write groups of digits ("07700.900.123"), not one, and
# write nothing else between them.
_LONE_DIGIT = re.compile(r"(?<!\d)\d(?!\d)")
_NOT_A_DOT = re.compile(r"[\s\-/]")
# A number that follows one of these words is a reference, not something to ring.
_REFERENCE_BEFORE = re.compile(
    r"\b(?:ref|reference|crime|case|order|invoice|account|acct|tracking|serial|imei|policy|"
    r"incident|log|cad|urn|id|customer|membership|booking|ticket|passport|licence|license|"
    r"nhs|ni|vin|parcel|transaction|receipt|claim|sort\s+code)"
    r"(?:\s*(?:no|number|num|ref|reference|id))?[\s.:#=\-]*$",
    re.IGNORECASE,
)
# Ofcom's ranges reserved for TV and radio drama, used in test and training data. phonenumbers
# rejects some of them as not valid (07700 900xxx is only "possible"), so they are let in here.
_DRAMA = re.compile(
    r"\+44(?:(?:11[3-8]|121|131|141|151|161)4960|1914980|2079460|2920180|2890180|1632960"
    r"|7700900|8081570|9098790|3069990)\d{3}"
)


# The most digits a number may have: "00" and the 15 digits E.164 allows.
_MAX_DIGITS = 17
# Failed candidates a run may cost before it is given up: a few, and one per this many of
# its characters. Real runs (a number, or several in a row) fail at most once in the 5,600
# texts of the labelled set, the demo stream and bench/enrich.py's reports.
_FAILURES_ALLOWED = 4
_CHARS_PER_FAILURE = 32


def _digit_range(leading_plus: bool, lead: str) -> tuple[int, int]:
    """The fewest and most digits a number may have, by how it starts (`lead`: 2 digits)."""
    if leading_plus:
        return 8, 15
    if lead == "00":
        return 10, _MAX_DIGITS
    if lead[:1] == "0":
        return 10, 11
    return 0, -1  # none: a national number starts with 0


def _plausible_digits(candidate: str, digits: str) -> bool:
    fewest, most = _digit_range(candidate.startswith("+"), digits[:2])
    return fewest <= len(digits) <= most


@lru_cache(maxsize=4096)
def normalise_phone(candidate: str, region: str = "GB") -> str | None:
    """E.164 form of `candidate`, or None when it is not a number we accept.

    A number must be valid by phonenumbers' metadata (length *and* an allocated range), or
    lie in one of Ofcom's drama ranges. "Possible" (right length only) is not enough: it
    lets in decimals, binary strings and references that happen to have 10-11 digits.
    """
    # phonenumbers reads spaces but not tabs or line breaks: any run of whitespace is one space.
    candidate = " ".join(fold(candidate).split())
    digits = "".join(ch for ch in candidate if ch.isdigit())
    if not _plausible_digits(candidate.lstrip("("), digits):
        return None
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    value = str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    if _DRAMA.fullmatch(value) or phonenumbers.is_valid_number(number):
        return value
    return None


def _numbers_in_run(text: str, start: int, end: int) -> Iterator[Mention]:
    """Split a run of digit groups into numbers: longest parseable prefix first, then on.

    Linear in the run: from each group only the spans with as many digits as a number can
    have are tried, and the run is given up after more failed candidates than a real one
    ever has (a phonenumbers parse costs ~35 us, and "0 0 0 ..." or "00 01 10 ..." offer
    several per character). Without both, a run of n groups ("1 1 1 ...", or numbers listed
    one after another) cost n^3: 2 s for 4,000 characters.
    """
    digit_spans = [(m.start(), m.end()) for m in _GROUP.finditer(text, start, end)]
    groups = list(digit_spans)
    # digits_before[k]: the digits in groups[:k].
    digits_before = [0, *itertools.accumulate(b - a for a, b in digit_spans)]
    # A leading "+" belongs to the number; a leading "(" only when it closes after the first
    # group and more follow, as in "(0161) 496 0123", not when it wraps the whole number,
    # "(07700 900123)" or "(07700900123)".
    first_end = groups[0][1]
    closes = first_end < end and text[first_end] == ")"
    if text[start] == "+" or (text[start] == "(" and closes):
        groups[0] = (start, first_end)
    # A run holding several numbers splits only at the gaps _BETWEEN allows.
    spaced = [True]
    spaced += [bool(_BETWEEN.fullmatch(text, a[1], b[0])) for a, b in itertools.pairwise(groups)]
    spaced.append(True)
    failures_left = _FAILURES_ALLOWED + (end - start) // _CHARS_PER_FAILURE
    i = 0
    while i < len(groups):
        found = None
        if spaced[i]:
            lead = text[digit_spans[i][0] : min(digit_spans[i][0] + 2, digit_spans[i][1])]
            if len(lead) < 2 and i + 1 < len(groups):
                lead += text[digit_spans[i + 1][0]]
            fewest, most = _digit_range(i == 0 and text[start] == "+", lead)
            longest = bisect.bisect_right(digits_before, digits_before[i] + most) - 1
            for j in range(longest, i, -1):
                if digits_before[j] - digits_before[i] < fewest:
                    break
                if not spaced[j]:
                    continue
                span_start, span_end = groups[i][0], groups[j - 1][1]
                candidate = text[span_start:span_end]
                value = _value(candidate)
                if value is not None:
                    yield Mention(EntityType.PHONE, candidate, value, span_start, span_end)
                    found = j
                    break
                failures_left -= 1
                if failures_left <= 0:
                    return
        i = i + 1 if found is None else found


def _value(candidate: str) -> str | None:
    """The E.164 value of a candidate span, or None if it is not a number."""
    if "." in candidate and (_NOT_A_DOT.search(candidate) or _LONE_DIGIT.search(candidate)):
        return None  # a version, a date or a decimal: "1.0.15 (2021-06-25)", "0.0449"
    if _SPACED_OUT.match(candidate) and not _DIGIT_BY_DIGIT.fullmatch(candidate):
        return None  # "0 37 99 46 11 53" is a row of numbers, "0 7 7 0 0 ..." a phone
    return normalise_phone(candidate)


def extract_phone(text: str) -> list[Mention]:
    """Phone numbers in `text`, each with its E.164 value and exact offsets."""
    folded = fold(text)
    mentions: list[Mention] = []
    for run in _RUN.finditer(folded):
        if sum(ch.isdigit() for ch in run.group()) < 8:
            continue
        if _REFERENCE_BEFORE.search(folded, max(0, run.start() - 40), run.start()):
            continue
        for found in _numbers_in_run(folded, run.start(), run.end()):
            mentions.append(replace(found, text=text[found.start : found.end]))
    return mentions
