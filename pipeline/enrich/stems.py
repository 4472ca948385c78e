"""English word stems (Snowball), so a search finds word forms on a node without analysis modules.

The worker writes the stems of a report's (masked) text into `text_stems`; the API stems the
analyst's words the same way before searching that field. Both sides cut words with `WORD`
and stem them with one Snowball English stemmer, so a word and its stem always agree.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

__all__ = ["WORD", "stem", "stems_text"]

# A word: letters and digits, with inner apostrophes ("driver's"), which Snowball strips.
WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")

_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """The Snowball English stem of one word, lowercased: `stations` -> `station`."""
    result: str = _STEMMER.stemWord(word.lower().replace("\u2019", "'"))
    return result


def stems_text(text: str) -> str:
    """`text` as its words' stems, in order, separated by spaces (positions kept for phrases)."""
    return " ".join(stem(word) for word in WORD.findall(text))
