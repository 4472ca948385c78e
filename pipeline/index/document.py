"""One report as an index document: its id, its external version and its `_source`."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pipeline.enrich.priority import report_priority
from pipeline.enrich.stems import stems_text
from pipeline.index.protected import narrative_fields
from pipeline.index.retention import RetentionPolicy, current_policy

if TYPE_CHECKING:
    from pipeline.enrich.clusters import ClusterAssignment
    from pipeline.enrich.mentions import Enrichment
    from pipeline.ingest.report import Report

__all__ = ["KNOWN_ATTRIBUTES", "MAX_INDEXED_MENTIONS", "build_document", "doc_id", "doc_version"]

# Attributes the mapping names; others are still stored (the `attributes` object is not strict).
KNOWN_ATTRIBUTES = ("channel", "platform", "referrer_type", "handler_id", "duration_s")
# Under Elasticsearch's default index.mapping.nested_objects.limit of 10,000 per document.
MAX_INDEXED_MENTIONS = 5_000


def doc_id(source: str, source_id: str) -> str:
    """The one `_id` of (source, upstream id): sha1 hex, URL-safe and always 40 characters.

    Hashing (rather than `source:id`) keeps ids within Elasticsearch's 512-byte limit and free
    of characters that need escaping in URLs, whatever upstream puts in its ids. The unit
    separator cannot occur in a source name, so no two pairs can collide by concatenation.
    """
    return hashlib.sha1(f"{source}\x1f{source_id}".encode(), usedforsecurity=False).hexdigest()


def doc_version(report: Report) -> int:
    """The external version written with `version_type=external_gte`: when the revision was
    first published to its intake topic, in milliseconds.

    That is the record's Kafka timestamp (CreateTime, or LogAppendTime where the topic says so),
    except for a record replayed from the dead-letter topic: it carries its original's timestamp
    in the `pipeline.origin.timestamp` header (added when it was first dead-lettered, kept
    through every further failure and replay), and the older of the two counts. So:

    - a redelivery (restart, rebalance, a batch retried) has the same version and rewrites its
      own document; a reindex from Kafka reads every record again with the same versions;
    - an upstream resend or a new revision is newer and wins;
    - a replay, however often and however late, has its original's version: it fills the gap
      it left, but against a revision published after it Elasticsearch answers 409 (`stale`)
      and the newer document stays; a replay of an old offset (reset) is older too.

    The header can only lower a version, never raise it above the record's own timestamp, so a
    copied or forged header cannot make a record beat a later revision. Offsets cannot serve:
    they are per partition and a resend may land in another partition. Two revisions in the
    same millisecond tie, and the one written last (offset order in one partition) wins. With
    no timestamp (-1 in old formats) the version is `received_at`, when upstream received it.
    """
    origin = report.origin
    stamps = (origin.timestamp_ms, origin.first_timestamp_ms)
    known = [t for t in stamps if t is not None and t >= 0]
    if known:
        return min(known)
    return max(0, int(report.received_at.timestamp() * 1000))


def _iso(moment: datetime) -> str:
    # a naive datetime is taken as UTC so the index never holds an ambiguous time
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def _location(report: Report) -> dict[str, Any] | None:
    place = report.location
    if place is None:
        return None
    location: dict[str, Any] = {}
    if place.text is not None:
        location["text"] = place.text
    if place.postcode is not None:
        location["postcode"] = place.postcode
    if place.lat is not None and place.lon is not None:
        location["geo"] = {"lat": place.lat, "lon": place.lon}
    return location or None


def build_document(
    report: Report,
    enrichment: Enrichment,
    cluster: ClusterAssignment | None,
    *,
    ingested_at: datetime,
    retention: RetentionPolicy | None = None,
    incident: str | None = None,
) -> dict[str, Any]:
    """The `_source` of the report's document (contract §2), plain JSON-ready data.

    Fields that carry nothing are left out rather than written as null, so `exists` queries
    mean "has a value". `extra` (unknown upstream fields) is stored but never indexed.
    Restricted values written in the narrative are masked (`pipeline.index.protected`).
    `review_date` comes from `retention` (the settings' policy when None) and `received_at`.
    """
    origin = report.origin
    document: dict[str, Any] = {
        "source": report.source.value,
        "source_id": report.source_id,
        "@timestamp": _iso(report.received_at),
        "schema_version": report.schema_version,
        # text, entities, entity_mentions, restricted: the reporter's own values masked
        **narrative_fields(
            report.text, enrichment.mentions, enrichment.entities, report.restricted
        ),
        "duplicate": cluster.duplicate if cluster is not None else False,
        "kafka": {"topic": origin.topic, "partition": origin.partition, "offset": origin.offset},
        "event": {"ingested": _iso(ingested_at)},
        # contract v2: from the record alone, so a replay or a reindex gives the same date
        "review_date": (retention or current_policy())
        .review_date(report.source.value, report.received_at)
        .isoformat(),
    }
    # word forms for search (`pipeline.enrich.stems`): of the masked text, so no restricted
    # value the analyst's `text` hides can be found through its stems
    document["text_stems"] = stems_text(document["text"])
    # the queues' order (`pipeline.enrich.priority`): from what analysts can see, so the
    # caller's own number, masked out of `entities`, is no lead
    priority = report_priority(document["source"], document.get("entities") or {})
    document["priority"] = priority.score
    if priority.reasons:
        document["priority_reasons"] = list(priority.reasons)
    if cluster is not None:
        document["cluster_id"] = cluster.cluster_id
    if incident is not None:
        document["incident_id"] = incident  # contract v2 (pipeline.enrich.incidents)
    if enrichment.region is not None:
        document["region"] = enrichment.region
    mentions = document.get("entity_mentions", [])
    if len(mentions) > MAX_INDEXED_MENTIONS:
        # Elasticsearch refuses a document with more nested objects than its limit (10,000):
        # the first mentions are kept, every value stays in `entities.*`, and it is said.
        document["entity_mentions"] = mentions[:MAX_INDEXED_MENTIONS]
    if enrichment.truncated or len(mentions) > MAX_INDEXED_MENTIONS:
        document["entities_truncated"] = True  # contract v2; left out when false
    if report.url is not None:
        document["url"] = report.url
    location = _location(report)
    if location is not None:
        document["location"] = location
    if report.attributes:
        document["attributes"] = dict(report.attributes)
    if report.extra:
        document["extra"] = dict(report.extra)
    if origin.timestamp_ms is not None and origin.timestamp_ms >= 0:
        created = datetime.fromtimestamp(origin.timestamp_ms / 1000, tz=UTC)
        document["event"]["created"] = created.isoformat(timespec="milliseconds")
    return document
