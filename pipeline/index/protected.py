"""The narrative fields of a document: masked for analysts, the original under `restricted`.

`text`, `entities` and `entity_mentions` hold what every role may read: restricted values
(the reporter's, caller's or subject's own name, phone or email, see
`pipeline.enrich.restricted`) are replaced by a label such as `[caller phone]` and left out of
`entities.*`, so no search, facet, link or entity view can show them. `restricted.text`
keeps the narrative as written, with `restricted.entity_mentions` (offsets into it, each
naming the field it repeats) and `restricted.entities`: stored, never indexed, returned only
to the restricted role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pipeline.enrich.mentions import EntityType, Mention
from pipeline.enrich.restricted import Protected, RestrictedMention, protect

__all__ = ["ENTITIES", "MENTIONS", "TEXT", "mention_json", "narrative_fields", "protect_source"]

# Keys the document adds under `restricted`, beside the intake's reporter, caller and subject.
TEXT, ENTITIES, MENTIONS = "text", "entities", "entity_mentions"
_KNOWN_TYPES = frozenset(t.value for t in EntityType)


def mention_json(mention: Mention) -> dict[str, Any]:
    """A mention as stored in `entity_mentions`."""
    return {
        "type": mention.type.value,
        "text": mention.text,
        "value": mention.value,
        "start": mention.start,
        "end": mention.end,
    }


def _restricted_json(item: RestrictedMention) -> dict[str, Any]:
    return {**mention_json(item.mention), "field": item.field}


def _public_entities(
    entities: Mapping[str, Iterable[str]], protected: Protected
) -> dict[str, list[str]]:
    hidden = {(r.mention.type.value, r.mention.value) for r in protected.restricted}
    shown = {(m.type.value, m.value) for m in protected.mentions}
    kept = {
        kind: [v for v in values if (kind, v) in shown or (kind, v) not in hidden]
        for kind, values in entities.items()
    }
    return {kind: values for kind, values in kept.items() if values}


def _restricted_entities(protected: Protected) -> dict[str, list[str]]:
    entities: dict[str, list[str]] = {}
    for item in protected.restricted:
        values = entities.setdefault(item.mention.type.value, [])
        if item.mention.value not in values:
            values.append(item.mention.value)
    return entities


def _fields(
    text: str,
    protected: Protected,
    entities: Mapping[str, Iterable[str]],
    restricted: Mapping[str, Any],
    extra_mentions: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "text": protected.text,
        "entities": _public_entities(entities, protected),
        "entity_mentions": [*map(mention_json, protected.mentions), *extra_mentions],
    }
    if restricted or protected.restricted:
        fields["restricted"] = dict(restricted)
    if protected.restricted:
        fields["restricted"] |= {
            TEXT: text,
            ENTITIES: _restricted_entities(protected),
            MENTIONS: [_restricted_json(r) for r in protected.restricted],
        }
    return fields


def narrative_fields(
    text: str,
    mentions: Iterable[Mention],
    entities: Mapping[str, Iterable[str]],
    restricted: Mapping[str, Any],
) -> dict[str, Any]:
    """`text`, `entities`, `entity_mentions` and (when there is any) `restricted` of a document.

    `restricted` is the report's reporter/caller/subject details; `entities` the enrichment's
    `entities.*`, from which the restricted values are dropped.
    """
    protected = protect(text, mentions, restricted)
    return _fields(text, protected, entities, restricted)


def protect_source(source: dict[str, Any]) -> dict[str, Any]:
    """A stored `_source` with its narrative fields protected: for a reindex of older documents.

    A document already protected (it has `restricted.text`) or without restricted details
    comes back as it is; so does one whose mentions cannot be read.
    """
    restricted = source.get("restricted")
    if not isinstance(restricted, dict) or not restricted or TEXT in restricted:
        return source
    text = source.get("text")
    if not isinstance(text, str):
        return source
    known: list[Mention] = []
    others: list[dict[str, Any]] = []
    try:
        for raw in source.get("entity_mentions") or []:
            if raw.get("type") in _KNOWN_TYPES:
                known.append(
                    Mention(
                        EntityType(raw["type"]),
                        str(raw["text"]),
                        str(raw["value"]),
                        int(raw["start"]),
                        int(raw["end"]),
                    )
                )
            else:
                others.append(dict(raw))
    except (AttributeError, KeyError, TypeError, ValueError):
        return source
    protected = protect(text, known, restricted)
    if not protected.restricted:
        return source
    # Mentions of a type this code does not know move with the text, or are masked with it.
    moved: list[dict[str, Any]] = []
    masked: list[dict[str, Any]] = []
    for raw in others:
        start, end = int(raw["start"]), int(raw["end"])
        place = protected.moved(start, end)
        if place is None:
            masked.append({**raw, "field": protected.field_at(start, end)})
        else:
            moved.append({**raw, "start": place[0], "end": place[1]})
    fields = _fields(text, protected, source.get("entities") or {}, restricted, moved)
    if masked:
        fields["restricted"][MENTIONS] += masked
        shown = {(m["type"], m["value"]) for m in fields["entity_mentions"]}
        for raw in masked:
            if (raw["type"], raw["value"]) not in shown:
                values = fields["entities"].get(raw["type"], [])
                fields["entities"][raw["type"]] = [v for v in values if v != raw["value"]]
        fields["entities"] = {kind: vs for kind, vs in fields["entities"].items() if vs}
    return {**source, **fields}
