"""One report as an index document: its id, its external version and its `_source`."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.enrich.clusters import ClusterAssignment
    from pipeline.enrich.mentions import Enrichment
    from pipeline.ingest.report import Report

__all__ = ["KNOWN_ATTRIBUTES", "build_document", "doc_id", "doc_version"]

# Attributes the mapping names; others are still stored (the `attributes` object is not strict).
KNOWN_ATTRIBUTES = ("channel", "platform", "referrer_type", "handler_id", "duration_s")


def doc_id(source: str, source_id: str) -> str:
    """The one `_id` of (source, upstream id): sha1 hex, URL-safe and always 40 characters.

    Hashing (rather than `source:id`) keeps ids within Elasticsearch's 512-byte limit and free
    of characters that need escaping in URLs, whatever upstream puts in its ids. The unit
    separator cannot occur in a source name, so no two pairs can collide by concatenation.
    """
    return hashlib.sha1(f"{source}\x1f{source_id}".encode(), usedforsecurity=False).hexdigest()


def doc_version(report: Report) -> int:
    """The external version written with `version_type=external_gte`.

    The Kafka record timestamp in milliseconds: a redelivery of the same record (consumer
    restart, rebalance, a batch retried after backpressure) has the same timestamp, so it
    overwrites its own document; a resend by upstream is a newer record, so it wins; a replay
    of an old offset (reset, DLQ replay of an older record) is older, so Elasticsearch answers
    409 and the newer document stays. Offsets cannot serve: they are per partition and a
    resend may land in another partition. Records without a timestamp (-1 in old formats)
    fall back to `received_at`, which upstream sets when the contribution arrived.
    """
    timestamp_ms = report.origin.timestamp_ms
    if timestamp_ms is not None and timestamp_ms >= 0:
        return timestamp_ms
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
) -> dict[str, Any]:
    """The `_source` of the report's document (contract §2), plain JSON-ready data.

    Fields that carry nothing are left out rather than written as null, so `exists` queries
    mean "has a value". `extra` (unknown upstream fields) is stored but never indexed.
    """
    origin = report.origin
    document: dict[str, Any] = {
        "source": report.source.value,
        "source_id": report.source_id,
        "@timestamp": _iso(report.received_at),
        "schema_version": report.schema_version,
        "text": report.text,
        "entities": {kind: list(values) for kind, values in enrichment.entities.items() if values},
        "entity_mentions": [
            {
                "type": mention.type.value,
                "text": mention.text,
                "value": mention.value,
                "start": mention.start,
                "end": mention.end,
            }
            for mention in enrichment.mentions
        ],
        "duplicate": cluster.duplicate if cluster is not None else False,
        "kafka": {"topic": origin.topic, "partition": origin.partition, "offset": origin.offset},
        "event": {"ingested": _iso(ingested_at)},
    }
    if cluster is not None:
        document["cluster_id"] = cluster.cluster_id
    if enrichment.region is not None:
        document["region"] = enrichment.region
    if report.url is not None:
        document["url"] = report.url
    location = _location(report)
    if location is not None:
        document["location"] = location
    if report.attributes:
        document["attributes"] = dict(report.attributes)
    if report.restricted:
        document["restricted"] = dict(report.restricted)
    if report.extra:
        document["extra"] = dict(report.extra)
    if origin.timestamp_ms is not None and origin.timestamp_ms >= 0:
        created = datetime.fromtimestamp(origin.timestamp_ms / 1000, tz=UTC)
        document["event"]["created"] = created.isoformat(timespec="milliseconds")
    return document
