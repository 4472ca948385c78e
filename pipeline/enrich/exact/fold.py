"""The text the phone, plate and postcode patterns read: odd spaces, dashes and wide forms folded.

`fold(text)` has exactly the length of `text`, one character for one, so an offset into it is
an offset into `text`: a pattern matches the folded copy and the mention quotes the original.
Folded are characters people type, or their software inserts, where the formats have ASCII:

- every Unicode space (no-break, thin, ideographic, line and paragraph separators, NEL) and
  the invisible ones (zero-width space and joiners, word joiner, byte-order mark, soft
  hyphen) become a plain space, so `\\s` and the splitters see one kind of gap;
- the full-width forms of ASCII (`０１６１`, `ＡＢ１２`, `－`, `（`) become ASCII;
- hyphens, en and em dashes and the minus sign become `-`;
- a decimal digit of any script becomes its ASCII digit (phonenumbers does the same).

ASCII text is returned as it is, without a copy: most reports cost one `isascii` scan.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold"]

_INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"
# Only non-ASCII characters are ever replaced; `\s` and `\d` are Unicode-wide here.
_FOLDABLE = re.compile(rf"(?![\x00-\x7f])[\s\d{_INVISIBLE}{_DASHES}\uff01-\uff5e]")
_FULL_WIDTH_OFFSET = 0xFEE0  # U+FF01..U+FF5E are U+0021..U+007E shifted by this


def _fold_char(char: str) -> str:
    if char.isspace() or char in _INVISIBLE:
        return " "
    if char in _DASHES:
        return "-"
    if "\uff01" <= char <= "\uff5e":
        return chr(ord(char) - _FULL_WIDTH_OFFSET)
    return str(unicodedata.decimal(char))


# The foldable characters are a fixed set of some 800, so this cache stays small.
_CACHE: dict[str, str] = {}


def _replace(match: re.Match[str]) -> str:
    char = match.group()
    folded = _CACHE.get(char)
    if folded is None:
        folded = _CACHE[char] = _fold_char(char)
    return folded


# The last text folded and its fold: the phone, plate and postcode extractors each fold the
# text they are given, and in `extract_exact` that is the same string object three times.
_last: tuple[str, str] = ("", "")


def fold(text: str) -> str:
    """`text` with the characters above folded to ASCII; the same length, offset for offset."""
    global _last  # noqa: PLW0603 - a one-entry memo, replaced whole (atomic) by each call
    if text.isascii():
        return text
    last = _last
    if last[0] is text:
        return last[1]
    folded = _FOLDABLE.sub(_replace, text)
    _last = (text, folded)
    return folded
