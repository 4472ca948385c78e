"""Telephone numbers in free text, normalised to E.164 with phonenumbers (GB by default)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import phonenumbers

from pipeline.enrich.mentions import EntityType, Mention

__all__ = ["extract_phone", "normalise_phone"]

# A run of digits that may be split by single spaces, dots, dashes or brackets, as people write
# numbers ("07700 900123", "0161-496-0123", "+44 (0)20 7946 0123", "0 7 7 0 0 ..."). The
# regex only proposes candidates; phonenumbers.parse decides. This is ~2x cheaper than
# PhoneNumberMatcher (FACTS.md) and lets us reject dates, prices and references up front.
_SEP = r"(?:[ .\-]|\)\s?|\s?\(|\s-\s)?"
_RUN = re.compile(rf"(?<![\w+£$€/.\-])[+(]?\d(?:{_SEP}\d)+(?![\w/]|[.,:\-]\d)")
_GROUP = re.compile(r"\d+")
# A number that follows one of these words is a reference, not something to ring.
_REFERENCE_BEFORE = re.compile(
    r"\b(?:ref|reference|crime|case|order|invoice|account|acct|tracking|serial|imei|policy|"
    r"incident|log|cad|urn|id|customer|membership|booking|ticket|passport|licence|license|"
    r"nhs|ni|vin|parcel|transaction|receipt|claim|sort\s+code)"
    r"(?:\s*(?:no|number|num|ref|reference|id))?[\s.:#=\-]*$",
    re.IGNORECASE,
)
# Leading digits of national (trunk 0) numbers in the UK plan: 01, 02, 03, 05, 07, 08, 09.
_UK_NATIONAL = re.compile(r"[1235789]\d{9}")


def _plausible_digits(candidate: str, digits: str) -> bool:
    if candidate.startswith("+"):
        return 8 <= len(digits) <= 15
    if digits.startswith("00"):
        return 10 <= len(digits) <= 17
    return digits.startswith("0") and 10 <= len(digits) <= 11


@lru_cache(maxsize=4096)
def normalise_phone(candidate: str, region: str = "GB") -> str | None:
    """E.164 form of `candidate`, or None when it is not a number we accept.

    A UK number with the 10-digit national shape of a used range (01, 02, 03, 05, 07, 08,
    09) is accepted when it is merely *possible*, not only *valid*, because Ofcom's
    fictional drama range 07700 900xxx, used in test and training data, is not "valid".
    Anything else must be valid. The shape check comes first: it is also the cheap path,
    as `is_valid_number` costs ~40 µs.
    """
    digits = "".join(ch for ch in candidate if ch.isdigit())
    if not _plausible_digits(candidate.lstrip("("), digits):
        return None
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    uk_shaped = number.country_code == 44 and _UK_NATIONAL.fullmatch(str(number.national_number))
    if uk_shaped:
        if not phonenumbers.is_possible_number(number):
            return None
    elif not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _numbers_in_run(text: str, start: int, end: int) -> Iterator[Mention]:
    """Split a run of digit groups into numbers: longest parseable prefix first, then on."""
    groups = [(m.start(), m.end()) for m in _GROUP.finditer(text, start, end)]
    # A leading "+" belongs to the number; a leading "(" only when it closes after the first
    # group, as in "(0161) 496 0123", not when it wraps the whole number.
    first_end = groups[0][1]
    if text[start] == "+" or (text[start] == "(" and text[first_end : first_end + 1] == ")"):
        groups[0] = (start, first_end)
    i = 0
    while i < len(groups):
        for j in range(len(groups), i, -1):
            span_start, span_end = groups[i][0], groups[j - 1][1]
            candidate = text[span_start:span_end]
            value = normalise_phone(candidate)
            if value is not None:
                yield Mention(EntityType.PHONE, candidate, value, span_start, span_end)
                i = j
                break
        else:
            i += 1


def extract_phone(text: str) -> list[Mention]:
    """Phone numbers in `text`, each with its E.164 value and exact offsets."""
    mentions: list[Mention] = []
    for run in _RUN.finditer(text):
        if sum(ch.isdigit() for ch in run.group()) < 8:
            continue
        if _REFERENCE_BEFORE.search(text, max(0, run.start() - 40), run.start()):
            continue
        mentions.extend(_numbers_in_run(text, run.start(), run.end()))
    return mentions
