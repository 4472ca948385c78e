"""The query-text clause and its highlight, shared by `/api/search` and saved-search matching.

An analyst's search and a saved search of the same words must find the same reports, so
both build the clause here: the same fields, the same default operator, the same markers.

Word forms are matched without the node's language analyzers: the worker stores the Snowball
stems of each report's text in `text_stems` (`pipeline.enrich.stems`), and every plain word of
the query is searched as itself or its stem, `bags` as `(bags | bag)`, so `station bag` finds
"stations ... bags". Exact words still score on their own, so they rank first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pipeline.enrich.stems import WORD, stem, stems_text

__all__ = [
    "EXACT_FIELDS",
    "HIT_TAGS",
    "QUERY_FIELDS",
    "RELAXED_MATCH",
    "STEMS_FIELD",
    "can_relax",
    "stemmed_query",
    "text_clause",
    "text_highlight",
    "word_forms_highlight",
]

# Highlight markers: private-use characters, so the web page and CLI can split a fragment
# into plain-text segments without ever treating report text as HTML.
HIT_TAGS = ("\ue000", "\ue001")

STEMS_FIELD = "text_stems"
# `restricted` is mapped `enabled: false`, so it is never searchable, whatever the role.
EXACT_FIELDS = ("text", "source_id", "entities.*")
QUERY_FIELDS = (*EXACT_FIELDS, STEMS_FIELD)
# When no report has every word: the share of the words a report must have (2 words: 1).
RELAXED_MATCH = "75%"

# simple_query_string ends a term at whitespace and at these (Lucene SimpleQueryParser).
_ENDS_TERM = frozenset(' \t\n\r"|+()')
# A plain word as typed, perhaps with trailing punctuation (`bags,`): the analyzer drops it.
_PLAIN = re.compile(rf"({WORD.pattern})[.,;:!?]*")


@dataclass(frozen=True, slots=True)
class _Piece:
    """A run of the query: an operator or whitespace (`op`), a `term`, or a `phrase`."""

    kind: str
    text: str
    depth: int = 0
    negated: bool = False


def _scan(q: str) -> list[_Piece] | None:
    """The query cut into pieces as simple_query_string reads it; None when it is unusual
    (an unclosed quote or bracket), and then it is searched exactly as typed."""
    pieces: list[_Piece] = []
    i, depth, negated = 0, 0, False
    while i < len(q):
        char = q[i]
        if char in " \t\n\r|+" or (char == "-" and (not pieces or pieces[-1].kind == "op")):
            pieces.append(_Piece("op", char, depth))
            negated = char == "-"
            i += 1
        elif char in "()":
            depth += 1 if char == "(" else -1
            if depth < 0:
                return None
            pieces.append(_Piece("op", char, depth))
            i += 1
        elif char == '"':
            close = q.find('"', i + 1)
            if close < 0:
                return None
            end = close + 1
            if q[end : end + 1] == "~":  # a slop such as `~2` belongs to the phrase
                end += 1
                while q[end : end + 1].isdigit():
                    end += 1
            pieces.append(_Piece("phrase", q[i:end], depth, negated))
            negated = False
            i = end
        else:
            end = i
            while end < len(q) and (q[end] not in _ENDS_TERM or q[end - 1] == "\\"):
                end += 1
            pieces.append(_Piece("term", q[i:end], depth, negated))
            negated = False
            i = end
    return pieces if depth == 0 else None


def _word(term: str) -> str | None:
    """The word a term is (`bags,` -> `bags`), or None for a selector, prefix or fuzzy term."""
    match = _PLAIN.fullmatch(term)
    return match.group(1) if match else None


def _stemmed(piece: _Piece) -> str:
    """A term or phrase as itself or its stemmed form, `(bags | bag)`; others unchanged."""
    if piece.kind == "term":
        word = _word(piece.text)
        if word and stem(word) != word.lower():
            return f"({piece.text} | {stem(word)})"
    elif piece.kind == "phrase" and "\\" not in piece.text:
        close = piece.text.rindex('"')
        words, slop = piece.text[1:close], piece.text[close + 1 :]
        stems = stems_text(words)
        if stems and stems != " ".join(w.lower() for w in WORD.findall(words)):
            return f'({piece.text} | "{stems}"{slop})'
    return piece.text


def stemmed_query(q: str) -> str:
    """`q` with each plain word and phrase widened to its stems: `station bags` ->
    `station (bags | bag)`. Prefix (`stat*`), fuzzy (`van~1`) and escaped terms, selectors
    (`AB12`, `@handle`) and any query it cannot read are left as typed."""
    pieces = _scan(q)
    if pieces is None:
        return q
    return "".join(_stemmed(p) for p in pieces)


def can_relax(q: str) -> bool:
    """True when `q` is two or more plain words or phrases (no `-`, `|`, `+` or brackets, no
    digits: `07700 900456` is one number, not two words): then a search that finds nothing
    may be run again for reports with most of them."""
    pieces = _scan(q)
    if pieces is None:
        return False
    if any(p.kind == "op" and not p.text.isspace() for p in pieces):
        return False
    words = [p for p in pieces if p.kind != "op"]
    return len(words) >= 2 and all(p.kind == "phrase" or _is_word(p.text) for p in words)


def _is_word(term: str) -> bool:
    word = _word(term)
    return word is not None and not any(char.isdigit() for char in word)


def _simple(q: str, fields: tuple[str, ...], relaxed: bool) -> dict[str, Any]:
    clause: dict[str, Any] = {
        "query": q,
        "fields": list(fields),
        "default_operator": "or" if relaxed else "and",
        "lenient": True,
    }
    if relaxed:
        clause["minimum_should_match"] = RELAXED_MATCH
    return {"simple_query_string": clause}


def text_clause(q: str, *, relaxed: bool = False) -> dict[str, Any]:
    """The clause for query text `q`: every word must match, as itself or a word form.

    `must`: the words widened to their stems, over the exact fields and `text_stems`;
    `should`: the words as typed over the exact fields only, so exact matches rank higher.
    `relaxed`: a report needs only most of the words (RELAXED_MATCH; see `can_relax`).
    simple_query_string never raises on syntax: a stray quote or bracket is read literally.
    """
    return {
        "bool": {
            "must": [_simple(stemmed_query(q), QUERY_FIELDS, relaxed)],
            "should": [_simple(q, EXACT_FIELDS, relaxed)],
        }
    }


def _shared_prefix(word: str, stemmed: str) -> str:
    size = 0
    while size < min(len(word), len(stemmed)) and word[size] == stemmed[size]:
        size += 1
    return word[: max(size, 3)]


def word_forms_highlight(q: str) -> dict[str, Any]:
    """What to mark in `text` for `q`: what the clause matched there, and the word forms that
    matched only through `text_stems` (`stations` for `station`), marked as the stem's prefix
    (it can mark a little more, `stationery`; highlighting only, it never changes the hits)."""
    words = [_word(p.text) for p in _scan(q) or [] if p.kind == "term" and not p.negated]
    # the stem, or its part the word shares (`happily` -> `happili`: `happil*`)
    prefixes = sorted(
        {_shared_prefix(w.lower(), stem(w)) for w in words if w and w.isalpha() and len(w) > 2}
    )
    should: list[dict[str, Any]] = [text_clause(q)]
    if prefixes:
        forms = " | ".join(f"{prefix}*" for prefix in prefixes)
        should.append({"simple_query_string": {"query": forms, "fields": ["text"]}})
    return {"bool": {"should": should}}


def text_highlight(*, fragments: int = 3, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """Highlight `text` only (never a restricted field) with the HIT_TAGS markers.

    A report whose match lies outside `text` (an entity value, the source id) still gets its
    opening 160 characters. `query` highlights what that query matched instead of the
    request's own query (a `top_hits` under a `filters` bucket needs its bucket's clause).
    """
    body: dict[str, Any] = {
        "pre_tags": [HIT_TAGS[0]],
        "post_tags": [HIT_TAGS[1]],
        "require_field_match": True,
        "fields": {
            "text": {"fragment_size": 160, "number_of_fragments": fragments, "no_match_size": 160}
        },
    }
    if query is not None:
        body["highlight_query"] = query
    return body
