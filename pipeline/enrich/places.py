"""Finding UK places in text and names, and the policing region each one lies in."""

from __future__ import annotations

import re

from pipeline.enrich.gazetteer import PLACES_BY_REGION

__all__ = ["PLACE_REGION", "find_places", "place_key", "region_for_place", "regions_named_in"]

PLACE_REGION: dict[str, str] = {
    name.strip(): region
    for region, names in PLACES_BY_REGION.items()
    for name in " ".join(names.split()).split(";")
    if name.strip()
}
# Places that are also everyday words ("reading", "bath", "barking"): found in free text
# only when written with a capital, and always when they are the whole name.
_WORDLIKE = frozenset(
    {"reading", "bath", "bury", "wells", "rugby", "newark", "flint", "cardigan", "barking",
     "poplar", "leek", "highlands", "slough", "deal"}
)  # fmt: skip
# Phrases that contain a place name but are not that place: consumed, never reported.
_NOT_PLACES = frozenset(
    {"new york", "new england", "new jersey", "new hampshire", "new south wales", "new derby",
     "prince of wales", "princess of wales", "bank of scotland", "royal bank of scotland",
     "church of england", "church of scotland", "birmingham alabama", "durham north carolina"}
)  # fmt: skip
# Every leading run of words of a known phrase, so a scan stops as soon as no name can fit.
_PREFIXES = frozenset(
    " ".join(words[:k])
    for words in (name.split() for name in [*PLACE_REGION, *_NOT_PLACES])
    for k in range(1, len(words) + 1)
)
# A town's name followed by one of these is a street or venue named after it
# ("Stockport Road", "Manchester Arena"), not a mention of the town.
_STREET_WORDS = frozenset(
    {"road", "rd", "street", "st", "lane", "avenue", "way", "drive", "close", "crescent",
     "terrace", "place", "square", "gardens", "grove", "arena", "parade", "row"}
)  # fmt: skip
_WORD = re.compile(r"[a-z][a-z'\-]*")
_NON_KEY = re.compile(r"[^a-z0-9'\- ]+")
_ARTICLE = re.compile(r"^the ")


def place_key(name: str) -> str:
    """The lookup key of a place name: lower case, curly quotes straightened, spaces single."""
    text = name.lower().replace("\u2019", "'")
    return _ARTICLE.sub("", " ".join(_NON_KEY.sub(" ", text).split()))


def region_for_place(name: str) -> str | None:
    """The region of a place name as a whole (`"Leeds"`, `"the City of London"`), or None."""
    return PLACE_REGION.get(place_key(name))


def find_places(text: str) -> list[tuple[int, int, str]]:
    """`(start, end, region)` of each gazetteer place named in free text, longest first.

    Words are joined into names only across plain spaces, so "Leeds, York" is two places
    and "Newcastle upon Tyne" one. Growing a name word by word while it is still the start
    of some known name keeps this linear in the text (a regex alternation of ~700 names is
    far slower).
    """
    lower = text.lower().replace("\u2019", "'")
    if len(lower) != len(text):  # a few characters change length when lower-cased
        lower = "".join(c.lower() if len(c.lower()) == 1 else c for c in text).replace(
            "\u2019", "'"
        )
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(lower)]
    found: list[tuple[int, int, str]] = []
    i = 0
    while i < len(words):
        if words[i][2] not in _PREFIXES:  # the common case, kept cheap
            i += 1
            continue
        best: tuple[int, str | None] | None = None
        key = ""
        for j in range(i, len(words)):
            if j > i and not text[words[j - 1][1] : words[j][0]].isspace():
                break
            key = f"{key} {words[j][2]}" if key else words[j][2]
            if key not in _PREFIXES:
                break
            if key in _NOT_PLACES:
                best = (j, None)
            elif key in PLACE_REGION and (key not in _WORDLIKE or text[words[i][0]].isupper()):
                best = (j, PLACE_REGION[key])
        if best is None:
            i += 1
            continue
        last, region = best
        after = words[last + 1][2] if last + 1 < len(words) else ""
        if after in _STREET_WORDS and text[words[last][1] : words[last + 1][0]].isspace():
            region = None
        if region is not None:
            found.append((words[i][0], words[last][1], region))
        i = last + 1
    return found


def regions_named_in(text: str) -> set[str]:
    """Regions of every gazetteer place found as whole words in free text."""
    return {region for _, _, region in find_places(text)}
