"""Text normal form, exact-content fingerprint and word shingles for deduplication."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Punctuation and symbols fold to a space so "van," and "van" agree; letters and digits stay.
_FOLDED_CATEGORIES = frozenset({"P", "S"})
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFKC, case-folded, punctuation and symbols as spaces, whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(
        " " if unicodedata.category(char)[0] in _FOLDED_CATEGORIES else char for char in folded
    )
    return _SPACE.sub(" ", kept).strip()


def fingerprint(text: str) -> str | None:
    """Hex digest of the normal form; None when nothing is left to compare (no words)."""
    normal = normalise(text)
    if not normal:
        return None
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:32]


def shingles(text: str, size: int) -> set[bytes]:
    """The set of `size`-word windows of the normal form, as UTF-8 bytes.

    A text shorter than one window yields one shingle (the whole text), so short
    reports still get a signature.
    """
    words = normalise(text).split(" ")
    if words == [""]:
        return set()
    if len(words) <= size:
        return {" ".join(words).encode("utf-8")}
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}
