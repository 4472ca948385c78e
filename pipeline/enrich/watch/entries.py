"""Watchlist entries: who watches what, until when, and the target in the reports' normal form.

A target is written `type:value`. A selector (`phone:07700 900123`, `vehicle:ab12cde`,
`handle:@x`, `url:...`, `email:...`, `postcode:...`) is normalised by running its type's
report extractor over the value, which must come out as one mention covering all of it: the
entry's key is then exactly the value extraction gives that written form in a report, and a
value extraction would never find (a plate spelling a word, a phone after too many digits)
is refused rather than kept as an entry that silently never matches. A name (`person:`,
`org:`) is cleaned as NER names are and keyed by its folded words, so case, accents, word
order and punctuation do not matter ("KHAN, Fatima" is "Fatima Khan").

An entry watches either a `target` or a saved `search` (the query language of `/api/search`,
with filters on source and region), never both. A `restricted` entry also matches the
reporter's, caller's and subject's own details; only the restricted role may own one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pipeline.enrich.exact import (
    extract_email,
    extract_handle,
    extract_phone,
    extract_postcode,
    extract_url,
    extract_vehicle,
)
from pipeline.enrich.mentions import EntityType, Mention
from pipeline.enrich.names import clean_entity
from pipeline.enrich.regions import REGIONS
from pipeline.ingest.sources import Source

__all__ = [
    "DEFAULT_LIFETIME",
    "MAX_LIFETIME",
    "MAX_VALUE_CHARS",
    "NAME_TYPES",
    "SELECTOR_TYPES",
    "Priority",
    "SavedSearch",
    "Target",
    "WatchEntry",
    "name_key",
    "target_key",
]

DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=365)
# Long enough for any real URL; a longer value is refused before an extractor reads it.
MAX_VALUE_CHARS = 2048

# Each selector type's report extractor, applied to the value alone.
_EXTRACTORS: dict[EntityType, Callable[[str], list[Mention]]] = {
    EntityType.PHONE: extract_phone,
    EntityType.VEHICLE: extract_vehicle,
    EntityType.HANDLE: extract_handle,
    EntityType.URL: extract_url,
    EntityType.EMAIL: extract_email,
    EntityType.POSTCODE: extract_postcode,
}
SELECTOR_TYPES: frozenset[EntityType] = frozenset(_EXTRACTORS)
NAME_TYPES: frozenset[EntityType] = frozenset({EntityType.PERSON, EntityType.ORG})
_EXAMPLES = {
    EntityType.PHONE: "07700 900123 or +44 7700 900123",
    EntityType.VEHICLE: "AB12 CDE",
    EntityType.HANDLE: "@name",
    EntityType.URL: "https://example.org/page",
    EntityType.EMAIL: "name@example.org",
    EntityType.POSTCODE: "SW1A 1AA",
    EntityType.PERSON: "Fatima Khan",
    EntityType.ORG: "Network Rail",
}
_BY_NAME = {kind.value: kind for kind in _EXAMPLES}
_TYPES = ", ".join(sorted(_BY_NAME))
_WORD = re.compile(r"\w+")
_APOSTROPHES = re.compile(r"['’‘`]")
_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
MAX_QUERY_CHARS = 1000
# Every batch runs every saved search: a query of hundreds of words (70 ms a filter, measured)
# would slow every other entry's matching, so a saved search is kept to a few words.
MAX_QUERY_TERMS = 32
# simple_query_string operators a saved search may not use: a term that starts with a
# wildcard scans every term of the index, on every batch, for every worker.
_LEADING_WILDCARD = re.compile(r"(?:^|[\s+|\-(\"~])[*?]")
_REGEX = re.compile(r"(?:^|\s)/.*/(?:\s|$)")


class Priority(StrEnum):
    """How urgently an entry's alerts want reading."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


def name_key(name: str) -> str:
    """A name's folded words, sorted: equal for any case, accents, word order or punctuation.

    `Fatima Khan`, `KHAN, Fatima` and `fatima  khán` all give `fatima khan`; apostrophes
    join (`O'Neill` is `oneill`), hyphens split (`Al-Amin` is `al amin`).
    """
    decomposed = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", name))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(sorted(_WORD.findall(bare.casefold())))


def _selector_key(kind: EntityType, written: str) -> str:
    value = written
    if kind is EntityType.HANDLE and not value.startswith("@"):
        value = "@" + value
    if kind is EntityType.URL:
        if "://" not in value:
            value = "https://" + value  # as a report's bare `www.` or platform link gets
        if "@" in urlsplit(value).netloc:
            # Reports' URLs lose their credentials, so this would watch the whole host.
            raise ValueError(f"url: {written!r} holds credentials (user@host); write it without")
    if kind is EntityType.VEHICLE:
        # Older plate formats are read only in capitals in a text; the watcher's case is moot.
        value = value.upper()
    found = _EXTRACTORS[kind](value)
    if len(found) != 1 or (found[0].start, found[0].end) != (0, len(value)):
        raise ValueError(
            f"{kind.value}: {written!r} is not recognised as one {kind.value} "
            f"(e.g. {_EXAMPLES[kind]})"
        )
    return found[0].value


def _name_value_key(kind: EntityType, value: str) -> str:
    # Cleaned in capitals: case never reaches the key, and in lower case one word would be
    # taken for NER's tagging slip and dropped.
    upper = value.upper()
    cleaned = clean_entity(upper, 0, len(upper), kind)
    key = name_key(cleaned.value) if cleaned is not None else ""
    if not key:
        raise ValueError(f"{kind.value}: {value!r} is not a name (e.g. {_EXAMPLES[kind]})")
    return key


def target_key(kind: EntityType, value: str) -> str:
    """The normal form mentions of `value` take in reports; ValueError naming the type if none."""
    if kind in SELECTOR_TYPES:
        return _selector_key(kind, value)
    if kind in NAME_TYPES:
        return _name_value_key(kind, value)
    raise ValueError(f"unknown type {kind.value!r}: one of {_TYPES}")


def _target_type(written: object) -> EntityType:
    name = str(written).strip().lower()
    kind = _BY_NAME.get(name)
    if kind is None:
        raise ValueError(f"unknown type {name!r}: one of {_TYPES}")
    return kind


class Target(BaseModel):
    """What an entry watches: `type`, `value` as written, and `key`, its normal form.

    Built from `"type:value"` or `{"type": ..., "value": ...}`; `key` is always recomputed,
    so a stored entry reloaded after the extractors change is keyed as reports now are.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: EntityType
    value: str
    key: str

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: object) -> dict[str, object]:
        if isinstance(data, str):
            written, colon, value = data.partition(":")
            if not colon:
                raise ValueError(f"{data!r} is not `type:value` (types: {_TYPES})")
        elif isinstance(data, Mapping):
            written, value = data.get("type", ""), data.get("value", "")
        else:
            raise ValueError("a target is `type:value` or {type, value}")
        kind = _target_type(written)
        if not isinstance(value, str):
            raise ValueError(f"{kind.value}: the value must be text")
        value = value.strip()
        if not value:
            raise ValueError(f"{kind.value}: empty value")
        if len(value) > MAX_VALUE_CHARS:
            raise ValueError(f"{kind.value}: value longer than {MAX_VALUE_CHARS} characters")
        return {"type": kind, "value": value, "key": target_key(kind, value)}

    def __str__(self) -> str:
        return f"{self.type.value}:{self.value}"


class SavedSearch(BaseModel):
    """A saved search: `/api/search`'s query text, narrowed to some sources and regions."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    q: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    sources: tuple[Source, ...] = Field(default=(), max_length=len(Source))
    regions: tuple[str, ...] = Field(default=(), max_length=len(REGIONS))

    @field_validator("q")
    @classmethod
    def _cheap_to_run(cls, q: str) -> str:
        if _LEADING_WILDCARD.search(q):
            raise ValueError(f"search: {q!r} has a term starting with a wildcard (* or ?)")
        if _REGEX.search(q):
            raise ValueError(f"search: {q!r} looks like a regular expression; write the words")
        terms = len(_WORD.findall(q))
        if terms > MAX_QUERY_TERMS:
            raise ValueError(f"search: {terms} words; a saved search has at most {MAX_QUERY_TERMS}")
        return q

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, regions: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [r for r in regions if r not in REGIONS]
        if unknown:
            raise ValueError(f"unknown region(s) {unknown}: one of {', '.join(REGIONS)}")
        return regions


def _now() -> datetime:
    return datetime.now(UTC)


class WatchEntry(BaseModel):
    """One watchlist entry. `expiry` defaults to 90 days after `created`, at most a year after.

    Expiry is checked against `created`, not the clock, so an entry reloaded from the store
    after it expired is still valid (it just never matches): whoever creates an entry sets
    `created` to now, which makes an expiry in the past one before `created`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=_ID)
    owner: str = Field(min_length=1, max_length=200)
    justification: str = Field(min_length=1, max_length=2000)
    priority: Priority = Priority.NORMAL
    created: AwareDatetime = Field(default_factory=_now)
    expiry: AwareDatetime = Field(default=None, validate_default=True)
    target: Target | None = None
    search: SavedSearch | None = None
    restricted: bool = False

    @field_validator("expiry", mode="before")
    @classmethod
    def _default_expiry(cls, value: object, info: ValidationInfo) -> object:
        created = info.data.get("created")
        if value is None and isinstance(created, datetime):
            return created + DEFAULT_LIFETIME
        return value

    @field_validator("expiry")
    @classmethod
    def _within_a_year(cls, expiry: datetime, info: ValidationInfo) -> datetime:
        created = info.data.get("created")
        if not isinstance(created, datetime):
            return expiry  # `created` is wrong and reported on its own
        if expiry <= created:
            raise ValueError(f"expiry {expiry.isoformat()} is not after creation ({created})")
        if expiry - created > MAX_LIFETIME:
            raise ValueError(f"expiry {expiry.isoformat()} is more than a year after creation")
        return expiry

    @model_validator(mode="after")
    def _one_kind(self) -> WatchEntry:
        if (self.target is None) == (self.search is None):
            raise ValueError("an entry watches either a `target` or a saved `search`, not both")
        return self

    @property
    def key(self) -> tuple[EntityType, str]:
        """The normalised (type, key) the target is matched by; ValueError for a search."""
        if self.target is None:
            raise ValueError(f"entry {self.id} is a saved search, matched by query, not by key")
        return self.target.type, self.target.key

    def live(self, now: datetime) -> bool:
        """Whether the entry still matches at `now`."""
        return now < self.expiry
