"""Restricted values in the narrative: mentions equal to the reporter's, caller's or subject's own.

A caller often says who they are ("my name is Fatima Khan, call me on 07700 900123"). Those
values are restricted (contract §2) wherever they are written, so `protect` finds them and
masks them out of what analysts read. A mention is restricted when its normal form equals
one of the record's restricted values normalised the same way: a phone in E.164
(`normalise_phone`), an email in lower case, a name as a multiset of case-folded words (so
"KHAN, Fatima" is "Fatima Khan"; a title such as "Mrs" is trimmed as for NER names). Names
of two or more words are also looked for directly in the text, because NER misses names
written in lower case or capitals; such a hit counts only where no other name mention
claims it, so "Ali Khan" inside the mention "Mohammed Ali Khan" is someone else.

Equality only: a first name alone, a surname alone, or the age of the subject is not masked.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pipeline.enrich.exact.phone import normalise_phone
from pipeline.enrich.mentions import EntityType, Mention
from pipeline.enrich.names import clean_entity

__all__ = ["MaskedSpan", "Protected", "RestrictedMention", "RestrictedValues", "protect"]

# The attributes of `reporter`, `caller` and `subject` (contract §1) that a narrative repeats.
_NAME, _PHONE, _EMAIL = "name", "phone", "email"
_NAME_TYPES = frozenset({EntityType.PERSON, EntityType.ORG, EntityType.LOCATION})
_WORD = re.compile(r"\w+(?:'\w+)*")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})
# Longer names are matched only through NER mentions: the direct scan stays cheap.
_MAX_SCAN_WORDS = 6


def _name_key(name: str) -> tuple[str, ...]:
    """Case-folded words of a name, sorted: equal for any case, word order or spacing."""
    folded = unicodedata.normalize("NFKC", name).translate(_APOSTROPHES).casefold()
    return tuple(sorted(_WORD.findall(folded)))


def _clean_name(name: str) -> str:
    # the names module trims titles, roles and punctuation as it does for NER spans
    cleaned = clean_entity(name, 0, len(name), EntityType.PERSON)
    return cleaned.value if cleaned is not None else " ".join(name.split())


@dataclass(frozen=True, slots=True)
class RestrictedValues:
    """One record's restricted values in normal form, each naming its field ("caller.phone")."""

    # name key -> (field, the name in normal form)
    names: dict[tuple[str, ...], tuple[str, str]] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, restricted: Mapping[str, Any]) -> RestrictedValues:
        """From `Report.restricted` (`{"caller": {"name": ..., "phone": ...}, ...}`)."""
        values = cls()
        for role, details in restricted.items():
            if not isinstance(details, Mapping):
                continue
            name, phone, email = (details.get(k) for k in (_NAME, _PHONE, _EMAIL))
            if isinstance(name, str) and (key := _name_key(clean := _clean_name(name))):
                values.names.setdefault(key, (f"{role}.{_NAME}", clean))
            if isinstance(phone, str) and (e164 := normalise_phone(phone.strip())):
                values.phones.setdefault(e164, f"{role}.{_PHONE}")
            if isinstance(email, str) and email.strip():
                values.emails.setdefault(email.strip().lower(), f"{role}.{_EMAIL}")
        return values

    def __bool__(self) -> bool:
        return bool(self.names or self.phones or self.emails)

    def field_of(self, mention: Mention) -> str | None:
        """The restricted field `mention` repeats, or None."""
        if mention.type in _NAME_TYPES:
            found = self.names.get(_name_key(mention.value))
            return found[0] if found else None
        if mention.type is EntityType.PHONE:
            return self.phones.get(mention.value)
        if mention.type is EntityType.EMAIL:
            return self.emails.get(mention.value.lower())
        return None


@dataclass(frozen=True, slots=True)
class RestrictedMention:
    """A mention of a restricted value; offsets into the original narrative."""

    mention: Mention
    field: str

    @property
    def label(self) -> str:
        """What replaces it in the analysts' text: `[caller name]`."""
        return "[" + self.field.replace(".", " ") + "]"


class MaskedSpan(NamedTuple):
    """One masked run: where it was in the narrative, how far it moves what follows, why."""

    start: int
    end: int
    shift: int
    field: str


@dataclass(frozen=True, slots=True)
class Protected:
    """A narrative split for two audiences.

    `text` is the narrative with every restricted mention replaced by its label, and
    `mentions` the others with offsets moved into `text`; `restricted` keeps the restricted
    mentions with offsets into the original narrative.
    """

    text: str
    mentions: tuple[Mention, ...]
    restricted: tuple[RestrictedMention, ...]
    spans: tuple[MaskedSpan, ...] = ()

    def _before(self, end: int) -> MaskedSpan | None:
        count = bisect.bisect_left(self.spans, end, key=lambda span: span.start)
        return self.spans[count - 1] if count else None

    def moved(self, start: int, end: int) -> tuple[int, int] | None:
        """Where an original span lies in `text`; None when it touches a masked span."""
        span = self._before(end)
        if span is None:
            return start, end
        if span.end > start:
            return None
        return start + span.shift, end + span.shift

    def field_at(self, start: int, end: int) -> str | None:
        """The restricted field masked over part of the original span [start, end), if any."""
        span = self._before(end)
        return span.field if span is not None and span.end > start else None


class _Spans:
    """Spans sorted by start, answering "which one overlaps [start, end)?" in log time."""

    def __init__(self, spans: list[Mention]) -> None:
        self._starts = [m.start for m in spans]
        # the span with the furthest end among the first i: overlaps iff that end > start
        self._reach: list[int] = []
        best = -1
        for i, span in enumerate(spans):
            if best < 0 or span.end > spans[best].end:
                best = i
            self._reach.append(best)
        self._spans = spans

    def overlapping(self, start: int, end: int) -> int | None:
        """The index of a span sharing a character with [start, end), or None."""
        before = bisect.bisect_left(self._starts, end)
        if not before:
            return None
        index = self._reach[before - 1]
        return index if self._spans[index].end > start else None


def _scan_names(text: str, values: RestrictedValues) -> Iterator[RestrictedMention]:
    """Restricted names written in the text in any case and word order, NER or not."""
    for key, (name_field, name) in values.names.items():
        if not 2 <= len(key) <= _MAX_SCAN_WORDS:
            continue  # one word alone is too often someone else ("Ali" in "Mohammed Ali")
        word = "(?:" + "|".join(re.escape(w).replace("'", "['’‘`]") for w in sorted(set(key))) + ")"
        pattern = re.compile(
            rf"(?<![\w'’-]){word}(?:[\s,-]+{word}){{{len(key) - 1}}}(?![\w-])", re.IGNORECASE
        )
        position = 0
        while (found := pattern.search(text, position)) is not None:
            if _name_key(found.group()) != key:  # "Khan Khan Fatima": try again one word on
                position = found.start() + 1
                continue
            written = found.group()
            mention = Mention(EntityType.PERSON, written, name, found.start(), found.end())
            yield RestrictedMention(mention, name_field)
            position = found.end()


def protect(text: str, mentions: Iterable[Mention], restricted: Mapping[str, Any]) -> Protected:
    """Mask the mentions of `restricted`'s own values in `text` (see the module docstring)."""
    ordered = sorted(mentions, key=lambda m: (m.start, m.end))
    values = RestrictedValues.of(restricted)
    if not values:
        return Protected(text, tuple(ordered), ())
    marked: list[RestrictedMention] = []
    public: list[Mention] = []
    for mention in ordered:
        found = values.field_of(mention)
        if found is None:
            public.append(mention)
        else:
            marked.append(RestrictedMention(mention, found))
    every = _Spans(ordered)
    # A mention already covers a hit: the same name, or a longer one that is someone else.
    marked.extend(
        hit
        for hit in _scan_names(text, values)
        if every.overlapping(hit.mention.start, hit.mention.end) is None
    )
    marked.sort(key=lambda r: (r.mention.start, r.mention.end))
    # A mention sharing characters with a masked one would show part of it: masked too.
    masked = _Spans([r.mention for r in marked])
    still_public: list[Mention] = []
    for mention in public:
        cover = masked.overlapping(mention.start, mention.end)
        if cover is None:
            still_public.append(mention)
        else:
            marked.append(RestrictedMention(mention, marked[cover].field))
    marked.sort(key=lambda r: (r.mention.start, r.mention.end))
    return _masked(text, still_public, marked)


def _masked(text: str, public: list[Mention], marked: list[RestrictedMention]) -> Protected:
    pieces: list[str] = []
    spans: list[MaskedSpan] = []
    cursor = length = 0
    for item in marked:
        start, end = item.mention.start, item.mention.end
        if start < cursor:  # overlaps the span just masked: that label covers it
            if end > cursor:
                last = spans[-1]
                spans[-1] = last._replace(end=end, shift=last.shift - (end - last.end))
                cursor = end
            continue
        pieces += (text[cursor:start], item.label)
        length += start - cursor + len(item.label)
        spans.append(MaskedSpan(start, end, length - end, item.field))
        cursor = end
    pieces.append(text[cursor:])
    protected = Protected("".join(pieces), (), tuple(marked), tuple(spans))
    moved: list[Mention] = []
    for mention in public:
        place = protected.moved(mention.start, mention.end)
        if place is not None:  # always: overlapping mentions were marked above
            moved.append(Mention(mention.type, mention.text, mention.value, *place))
    return Protected(protected.text, tuple(moved), protected.restricted, protected.spans)
