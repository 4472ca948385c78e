"""Organisations proscribed under the Terrorism Act 2000, found by name or alias in any text.

The list and its aliases are `data/proscribed_orgs.txt` (its header cites the Home Office list
and the date it reflects). A hit is a run of whole words equal to one of the forms: words are
compared case-folded, without accents or apostrophes ("al-Qa'ida" = "AL QAIDA" = "al qaida"),
with any run of whitespace or hyphens between them. A form marked `=` in the file (acronyms,
names that are also ordinary words) matches only exactly as written there: "IRA" not "Ira",
"The Base" not "the base", "LeT" not "LET" (shouted "let"). A trailing possessive ("Hamas's")
is left outside the hit.

Linear time: the text is cut into words once; from each word a walk down a trie of the forms
goes at most as many words as the longest form has.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from pipeline.enrich.mentions import EntityType, Mention

__all__ = ["Hit", "ProscribedRuler", "find_proscribed", "load_ruler", "proscribed_mentions"]

# A word: letters and digits, with apostrophes inside ("Qa'ida", "People's"); one after it
# ("Workers' Party") belongs to the gap.
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# What may stand between two words of one form.
_GAP = re.compile(r"['’]?[\s\-‐‑–]+")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)


def _fold(word: str) -> str:
    """A word compared: case-folded, accents and apostrophes dropped."""
    if word.isascii():  # nearly every word: no accents to drop
        return word.replace("'", "").lower()
    decomposed = unicodedata.normalize("NFKD", word)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch) and ch not in "'’")
    return kept.casefold()


def _bare(word: str) -> str:
    """A word compared case-sensitively: only apostrophes dropped."""
    return word.replace("'", "").replace("’", "")


@dataclass(frozen=True, slots=True)
class _Form:
    name: str  # the organisation as the list gives it
    words: tuple[str, ...]  # as written in the file, apostrophes dropped
    exact: bool


@dataclass(slots=True)
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    forms: list[_Form] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Hit:
    """One organisation found: `[start, end)` of the text, and its name as the list gives it."""

    start: int
    end: int
    name: str


class ProscribedRuler:
    """The forms of every listed organisation, in a trie of folded words."""

    def __init__(self, lines: list[str]) -> None:
        self._root = _Node()
        self._depth = 0
        self.names: list[str] = []
        for raw_line in lines:
            line = raw_line.strip()
            if not line or line.startswith("#"):
                continue
            fields = [f.strip() for f in line.split("|")]
            name = fields[0].removeprefix("=")
            self.names.append(name)
            for raw in fields:
                exact = raw.startswith("=")
                words = tuple(_bare(w[2]) for w in _words(raw.removeprefix("=")))
                self._add(_Form(name, words, exact))

    def _add(self, form: _Form) -> None:
        node = self._root
        for word in form.words:
            node = node.children.setdefault(_fold(word), _Node())
        node.forms.append(form)
        self._depth = max(self._depth, len(form.words))

    def find(self, text: str) -> list[Hit]:
        """Every hit in `text`, left to right, the longest at each place, none overlapping."""
        words = _words(text)
        hits: list[Hit] = []
        i = 0
        while i < len(words):
            best: tuple[int, int, _Form] | None = None  # last word, end, form
            node = self._root
            for j in range(i, min(len(words), i + self._depth)):
                start, end, word, short = words[j]
                if j > i and not _GAP.fullmatch(text, words[j - 1][1], start):
                    break
                child = node.children.get(_fold(word))
                if child is None and short is not None:
                    # "Hamas's": the word without its possessive ends the hit
                    child, end, word = (
                        node.children.get(_fold(text[start:short])),
                        short,
                        text[start:short],
                    )
                    if child is not None:
                        form = _fitting(child, words[i:j], word)
                        if form is not None:
                            best = (j, end, form)
                    break
                if child is None:
                    break
                node = child
                form = _fitting(node, words[i:j], word)
                if form is not None:
                    best = (j, end, form)
            if best is None:
                i += 1
                continue
            last, end, form = best
            hits.append(Hit(words[i][0], end, form.name))
            i = last + 1
        return hits


def _words(text: str) -> list[tuple[int, int, str, int | None]]:
    """The words of `text`: start, end, the word, and where it ends without a possessive."""
    words = []
    for match in _WORD.finditer(text):
        word = match.group()
        short: int | None = None
        possessive = _POSSESSIVE.search(word)
        if possessive and len(word) > 2:
            short = match.start() + possessive.start()
        words.append((match.start(), match.end(), word, short))
    return words


def _fitting(
    node: _Node, before: list[tuple[int, int, str, int | None]], last: str
) -> _Form | None:
    """The first form ending at `node` whose case rule the written words meet."""
    if not node.forms:
        return None
    written = [_bare(w[2]) for w in before] + [_bare(last)]
    for form in node.forms:
        if not form.exact or written == list(form.words):
            return form
    return None


@cache
def load_ruler() -> ProscribedRuler:
    """The packaged list, read once per process."""
    data = resources.files("pipeline.enrich").joinpath("data/proscribed_orgs.txt")
    return ProscribedRuler(data.read_text(encoding="utf-8").splitlines())


def find_proscribed(text: str) -> list[Hit]:
    """Hits of the packaged list in `text`."""
    return load_ruler().find(text)


def proscribed_mentions(text: str) -> list[Mention]:
    """Each hit twice on the same span: a `proscribed_org` and an `org`, both valued with the
    name the list gives (so `entities.org` and `entities.proscribed_org` agree)."""
    mentions: list[Mention] = []
    for hit in find_proscribed(text):
        written = text[hit.start : hit.end]
        for kind in (EntityType.PROSCRIBED_ORG, EntityType.ORG):
            mentions.append(Mention(kind, written, hit.name, hit.start, hit.end))
    return mentions
