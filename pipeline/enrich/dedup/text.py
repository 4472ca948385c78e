"""Text normal form, exact-content fingerprint and word shingles for deduplication."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Everything that is not a letter or digit (punctuation, symbols, underscores, whitespace)
# folds to one space, so "van," and "van" agree. One C-level regex pass, not a char loop.
_NON_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """NFKC, case-folded, punctuation and symbols as spaces, whitespace collapsed."""
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def digest(normal: str) -> str | None:
    """Fingerprint of an already normalised text; None when no word is left."""
    if not normal:
        return None
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:32]


def fingerprint(text: str) -> str | None:
    """Hex digest of the normal form; None when nothing is left to compare (no words)."""
    return digest(normalise(text))


def word_shingles(words: list[str], size: int) -> set[bytes]:
    """The set of `size`-word windows, as UTF-8 bytes; a shorter text is one shingle."""
    if not words:
        return set()
    if len(words) <= size:
        return {" ".join(words).encode("utf-8")}
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


def shingles(text: str, size: int) -> set[bytes]:
    """`word_shingles` of the normal form of `text`."""
    normal = normalise(text)
    return word_shingles(normal.split(" ") if normal else [], size)
