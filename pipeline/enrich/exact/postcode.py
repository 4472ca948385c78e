"""UK postcodes in free text, normalised to upper case with one space (`SW1A 1AA`)."""

from __future__ import annotations

import re

from pipeline.enrich.exact.fold import fold
from pipeline.enrich.mentions import EntityType, Mention
from pipeline.enrich.regions import POSTCODE_AREAS

__all__ = ["extract_postcode", "normalise_postcode", "postcode_area"]

# The Royal Mail format: outward code (area letters, district digit(s), optional letter) and
# inward code (sector digit and two unit letters, never C I K M O V). GIR 0AA is the one
# historic exception. Any case, and any whitespace or none between the two halves ("cb2  1tn",
# "SW1A\u00a01AA", a line break), since web forms and call handlers write all of them. It reads
# the folded text (exact/fold.py), so full-width letters and digits count too.
_POSTCODE = re.compile(
    r"(?<![\w-])"
    r"(GIR\s*0AA|"
    r"(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
    r"\s*[0-9][ABD-HJLNP-UW-Z]{2})"
    r"(?![\w-])",
    re.IGNORECASE,
)
_AREA = re.compile(r"[A-Z]+")


def postcode_area(postcode: str) -> str:
    """The area letters of a postcode (`SW1A 1AA` -> `SW`, `M1 1AE` -> `M`)."""
    match = _AREA.match(postcode.strip().upper())
    return match.group() if match else ""


def normalise_postcode(candidate: str) -> str | None:
    """`candidate` as `OUTWARD INWARD` in upper case, or None if it is not a UK postcode.

    The area must be a real one (POSTCODE_AREAS), which turns away look-alikes such as
    road-plus-code strings that merely fit the letter/digit shape.
    """
    compact = "".join(fold(candidate).split()).upper()
    if not _POSTCODE.fullmatch(compact):
        return None
    value = f"{compact[:-3]} {compact[-3:]}"
    if value != "GIR 0AA" and postcode_area(value) not in POSTCODE_AREAS:
        return None
    return value


def extract_postcode(text: str) -> list[Mention]:
    """UK postcodes in `text`, each with its normal form and exact offsets."""
    mentions: list[Mention] = []
    for match in _POSTCODE.finditer(fold(text)):
        value = normalise_postcode(match.group())
        if value is not None:
            start, end = match.span()
            mentions.append(Mention(EntityType.POSTCODE, text[start:end], value, start, end))
    return mentions
