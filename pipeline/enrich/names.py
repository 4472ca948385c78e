"""Cleaning NER spans into names: trimmed offsets, a normal form, noise turned away.

Normal form of a name (the `value`): whitespace collapsed; surrounding punctuation and
quotes, a leading "the" and a trailing possessive ('s) removed, with the offsets moved to
match; a name written all in lower case or all in capitals is put in title case ("mohammed
ali", "LONDON" -> "Mohammed Ali", "London") keeping particles such as "of" or "bin" lower
and, for organisations, short all-capital words as acronyms ("BBC"); any other name keeps
the case it was written in ("McDonald's", "easyJet").

Beyond the model: a leading title or role ("Mr", "Caller", "Colleague") is trimmed from a
person; a span that is a gazetteer place, or ends in a street-type word ("Road", "Square",
"Station"), is a location whatever label NER gave it; role words alone ("Driver",
"Landlord") and very short or number-like spans are dropped.
"""

from __future__ import annotations

import re

from pipeline.enrich.mentions import EntityType, Mention
from pipeline.enrich.places import region_for_place

__all__ = ["clean_entity"]

_EDGE = " \t\r\n\"'“”‘’`()[]{}<>,.;:!?*-–—/\\|#~_+=&"
_POSSESSIVE = re.compile(r"(?:['’]s|s['’])$", re.IGNORECASE)
_FIRST_WORD = re.compile(r"([\w']+)\s+")
_LAST_WORD = re.compile(r"\s+(\w+)$")
_NOT_A_NAME = re.compile(r"@|://|www\.|\d{3,}")
_LOWER_PARTICLES = frozenset(
    {"of", "and", "the", "upon", "on", "under", "in", "de", "la", "le", "du", "von", "van",
     "der", "den", "bin", "bint", "al"}
)  # fmt: skip


def _word_set(block: str) -> frozenset[str]:
    return frozenset(block.split())


# Role words: trimmed from the front of a person ("Caller Rhys Davies"), dropped alone.
_ROLES = _word_set(
    """
    mr mrs ms miss dr sir pc sgt det insp caller callers colleague uncle aunt brother sister
    cousin friend neighbour neighbor driver officer subject suspect lodger landlord landlady
    tenant son daughter husband wife partner ex mum mother dad father teacher pupil student
    worker referrer buyer customer patient nurse doctor manager boss flatmate male female
    reporter anon anonymous unknown police phone car van mobile friend's
    """
)
# Trailing words that show NER ran past the name ("Reading to", "Leeds near").
_TRAILING_WORDS = frozenset({"to", "from", "and", "in", "at", "on", "near", "by", "with"})
# How far into a span a role or "the" and the space after it can reach, and how far back
# from its end a filler word, the space before it and a final newline.
_FIRST_WINDOW = max(len(word) for word in (*_ROLES, "the")) + 1
_LAST_WINDOW = max(len(word) for word in _TRAILING_WORDS) + 2
# Last words that make a span a place: streets, stations, venues.
_PLACE_WORDS = _word_set(
    """
    street st road rd lane avenue square station airport park bridge green way close drive
    place terrace crescent arena centre center estate market parade gardens hill circus
    """
)


def _title_word(word: str, first: bool, acronyms: bool) -> str:
    if acronyms and word.isupper() and len(word) <= 4:
        return word
    lower = word.lower()
    if not first and lower in _LOWER_PARTICLES:
        return lower
    parts = re.split(r"([-'’])", lower)
    out = []
    for i, part in enumerate(parts):
        after_quote = i > 0 and parts[i - 1] in "'’" and len(parts[i - 2]) == 1
        after_hyphen = i > 0 and parts[i - 1] == "-" and part not in _LOWER_PARTICLES
        if part and (i == 0 or after_hyphen or after_quote):
            out.append(part[0].upper() + part[1:])
        else:
            out.append(part)
    return "".join(out)


def _normal_case(name: str, kind: EntityType) -> str:
    letters = [ch for ch in name if ch.isalpha()]
    if not (all(ch.islower() for ch in letters) or all(ch.isupper() for ch in letters)):
        return name
    words = name.split(" ")
    return " ".join(
        _title_word(w, first=i == 0, acronyms=kind is EntityType.ORG) for i, w in enumerate(words)
    )


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Move the span's ends past punctuation, "the", possessives and role or filler words.

    Linear in the span whatever it holds ("the the the ...", "x to to to ..."): each round
    looks only at a few characters at either end, beyond what it removes, because a word
    longer than the longest role or filler word cannot be one (lower-casing never shortens).
    """
    while True:
        before = (start, end)
        while start < end and text[start] in _EDGE:
            start += 1
        while end > start and text[end - 1] in _EDGE:
            end -= 1
        # Two characters, and a newline `$` may stand before.
        possessive = _POSSESSIVE.search(text, max(start, end - 3), end)
        if possessive and end - start > 3:
            end = possessive.start() + 1 if possessive.group()[0] in "sS" else possessive.start()
        first = _FIRST_WORD.match(text, start, min(end, start + _FIRST_WINDOW))
        if first and (first.group(1).lower() == "the" or first.group(1).lower() in _ROLES):
            after = _skip_space(text, first.end(), end)
            if end > after:
                start = after
        last = _LAST_WORD.search(text, max(start, end - _LAST_WINDOW), end)
        if last and last.group(1).lower() in _TRAILING_WORDS:
            space = _skip_space_back(text, last.start(), start)
            if space > start:
                end = space
        if (start, end) == before:
            return start, end


def _skip_space(text: str, at: int, end: int) -> int:
    while at < end and text[at].isspace():  # str.isspace is what `\s` matches
        at += 1
    return at


def _skip_space_back(text: str, at: int, start: int) -> int:
    while at > start and text[at - 1].isspace():
        at -= 1
    return at


def _kind(value: str, kind: EntityType) -> EntityType:
    """NER's label, unless the name is plainly a place."""
    if kind is EntityType.LOCATION:
        return kind
    words = value.lower().split()
    if region_for_place(value) is not None or (len(words) > 1 and words[-1] in _PLACE_WORDS):
        return EntityType.LOCATION
    return kind


def clean_entity(text: str, start: int, end: int, kind: EntityType) -> Mention | None:
    """Trim an entity span of `text`, normalise its value, or None if it is noise."""
    start, end = _trim(text, start, end)
    written = text[start:end]
    value = " ".join(written.split())
    letters = sum(ch.isalpha() for ch in value)
    if letters < 2 or len(value) > 80 or _NOT_A_NAME.search(value):
        return None
    if value.lower() in _ROLES:
        return None
    kind = _kind(value, kind)
    if letters < 3 and kind is not EntityType.LOCATION:  # "PO", "GP": initialisms, not names
        return None
    # A single lower-case word is nearly always a tagging slip; a known place is not.
    if " " not in value and value.islower() and region_for_place(value) is None:
        return None
    return Mention(kind, written, _normal_case(value, kind), start, end)
