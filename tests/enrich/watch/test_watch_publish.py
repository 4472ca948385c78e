"""Alert records and the watch step's publishing, as plain functions over in-memory stand-ins of
the step's own protocols: what is published when, what is marked, and that a publisher failure
pauses the batch instead of dead-lettering it. The broker itself: test_watch_publish_kafka.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from pipeline.enrich.exact import extract_exact
from pipeline.enrich.regions import REGIONS
from pipeline.enrich.watch import Match, Watchlist
from pipeline.enrich.watch.alerts import Sighting, alert_documents
from pipeline.enrich.watch.entries import NAME_TYPES, SELECTOR_TYPES, Priority
from pipeline.enrich.watch.publish import (
    AlertRecord,
    AlertsUnavailable,
    alert_record,
    alerts_topic,
    update_record,
)
from pipeline.enrich.watch.step import Watch
from pipeline.flow.batch import BatchProcessor
from pipeline.flow.item import Rejection
from pipeline.ingest.records import RawRecord
from pipeline.ingest.sources import Source
from pipeline.worker.runtime import Runtime
from tests.enrich.watch.factory import NOW, entry, watching_processor

SCHEMA = json.loads((Path(__file__).parents[3] / "schemas" / "alert.v1.json").read_text())
VALIDATOR = jsonschema_rs.validator_for(SCHEMA, validate_formats=True)
CALLER = {"caller": {"phone": "07700 900123"}}


def valid(record: AlertRecord) -> bool:
    key, value = record.encoded()
    return key.decode() == record.value["entry_id"] and VALIDATOR.is_valid(json.loads(value))


def sightings(watchlist: Watchlist, text: str, restricted: dict[str, Any]) -> list[Sighting]:
    found = watchlist.match_report(text, extract_exact(text), restricted, NOW)
    return [Sighting(match, "report-1", "cluster-1", "hotline_call", NOW) for match in found]


def test_the_schema_is_valid_and_names_what_the_code_writes() -> None:
    assert jsonschema_rs.meta.is_valid(SCHEMA)
    alert = SCHEMA["$defs"]["Alert"]["properties"]
    assert set(alert["target"]["properties"]["type"]["enum"]) == {
        t.value for t in SELECTOR_TYPES | NAME_TYPES
    }
    assert set(alert["source"]["enum"]) == {s.value for s in Source}
    assert alert["priority"]["enum"] == [p.value for p in Priority]
    assert set(alert["search"]["properties"]["regions"]["items"]["enum"]) == set(REGIONS)
    assert alerts_topic("x.") == "x.alerts" == "x." + SCHEMA["x-kafka-topic"]


def test_alert_records_of_targets_restricted_values_and_saved_searches_are_valid() -> None:
    watchlist = Watchlist(
        [
            entry("phone:07700900123", id="restricted", restricted=True),
            entry("vehicle:AB12 CDE", id="plate", priority="high"),
        ]
    )
    found = sightings(watchlist, "Rang 07700 900123 about AB12 CDE.", CALLER)
    search = entry(None, id="saved", search={"q": "van depot", "regions": ["London"]})
    found.append(Sighting(Match(search, None, "a <em>van</em>"), "r2", "c2", "public_report", NOW))
    records = [alert_record(doc) for doc in alert_documents(found).values()]
    # public mentions first, then restricted values
    assert [r.key for r in records] == ["plate", "restricted", "saved"]
    assert all(valid(record) for record in records)
    plate, restricted, saved = (r.value for r in records)
    assert restricted["restricted"] is True and restricted["mention"]["field"] == "caller.phone"
    assert plate["restricted"] is False and plate["priority"] == "high"
    assert saved["search"] == {"q": "van depot", "sources": [], "regions": ["London"]}
    assert saved["highlight"] == "a <em>van</em>" and "mention" not in saved


def test_the_schema_refuses_an_analyst_alert_naming_a_restricted_field() -> None:
    [doc] = alert_documents(
        sightings(Watchlist([entry("vehicle:AB12CDE", id="v")]), "Van AB12 CDE.", {})
    ).values()
    record = alert_record(doc)
    assert valid(record)
    leaked = {**record.value, "mention": {**record.value["mention"], "field": "caller.phone"}}
    assert not VALIDATOR.is_valid(leaked)
    assert VALIDATOR.is_valid({**leaked, "restricted": True})
    assert not VALIDATOR.is_valid({**record.value, "search": {"q": "x"}})  # target or search


def test_update_records_are_valid_and_keyed_by_entry() -> None:
    alert = {"alert_id": "a" * 32, "entry_id": "e1", "owner": "alice", "restricted": False}
    acknowledged = {"by": "bob", "at": "2026-12-01T10:00:00+00:00", "outcome": "actioned"}
    record = update_record(alert, {**acknowledged, "note": "passed on"}, at=NOW)
    assert record.key == "e1" and valid(record)
    assert record.value["acknowledged"]["note"] == "passed on"
    assert record.value["at"] == NOW.isoformat()
    bare = update_record(alert, {**acknowledged, "at": NOW})
    assert valid(bare) and "note" not in bare.value["acknowledged"]
    with pytest.raises(ValueError, match="outcome"):
        update_record(alert, {"by": "bob", "at": NOW})
    with pytest.raises(ValueError, match="offset"):
        update_record(alert, {**acknowledged, "at": datetime(2026, 12, 1)})


# The watch step's publishing, over stand-ins of its Alerts and Publishes protocols.
class Alerts:
    """An alerts index in memory: `create` semantics and the `published` flag."""

    def __init__(self) -> None:
        self.stored: dict[str, dict[str, Any]] = {}
        self.marked: list[list[str]] = []

    def write(self, found: Sequence[Sighting]) -> list[str]:
        created = []
        for alert, doc in alert_documents(found).items():
            if alert not in self.stored:
                self.stored[alert] = dict(doc)
                created.append(alert)
        return created

    def unpublished(self, alert_ids: Sequence[str]) -> list[dict[str, Any]]:
        return [self.stored[a] for a in alert_ids if self.stored[a].get("published") is False]

    def mark_published(self, alert_ids: Sequence[str]) -> None:
        self.marked.append(list(alert_ids))
        for alert in alert_ids:
            self.stored[alert]["published"] = True


class Publisher:
    """Takes records after `failures` refusals."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[AlertRecord] = []

    def publish(self, records: Sequence[AlertRecord]) -> None:
        if self.failures:
            self.failures -= 1
            raise AlertsUnavailable("publishing alerts: KafkaTimeoutError")
        self.sent += records

    def close(self) -> None:
        pass


class Entries:
    def __init__(self, *entries: Any) -> None:
        self.watchlist = Watchlist(entries)

    def current(self, now: datetime) -> Watchlist:
        return self.watchlist


def record(offset: int, text: str, **caller: str) -> RawRecord:
    body: dict[str, Any] = {"id": f"c{offset}", "received_at": "2026-11-20T10:00:00Z"}
    body |= {"summary": text, **({"caller": caller} if caller else {})}
    return RawRecord(
        topic="intake.hotline-calls",
        partition=0,
        offset=offset,
        key=f"c{offset}".encode(),
        value=json.dumps(body).encode(),
        timestamp_ms=1_790_000_000_000 + offset,
    )


def processor(watch: Watch) -> BatchProcessor:
    return watching_processor(watch)


def test_new_alerts_are_published_once_and_marked_and_a_redelivery_sends_nothing() -> None:
    alerts, publisher = Alerts(), Publisher()
    watch = Watch(Entries(entry("vehicle:AB12CDE", id="v")), alerts, publisher)
    batch = [record(n, f"Van AB12 CDE again ({n})") for n in range(3)]
    processor(watch).process(batch)
    [sent] = publisher.sent
    assert sent.key == "v" and sent.value["cluster_id"] == "one-story"
    assert alerts.marked == [[sent.value["alert_id"]]]
    processor(watch).process(batch)
    assert len(publisher.sent) == 1 and len(alerts.marked) == 1


def test_an_alert_left_unpublished_by_a_failure_goes_out_on_the_retry() -> None:
    alerts, publisher = Alerts(), Publisher(failures=1)
    watch = Watch(Entries(entry("vehicle:AB12CDE", id="v")), alerts, publisher)
    batch = [record(0, "Van AB12 CDE")]
    with pytest.raises(AlertsUnavailable):
        processor(watch).process(batch)
    [stored] = alerts.stored.values()
    assert stored["published"] is False and alerts.marked == []
    processor(watch).process(batch)  # the retry: the alert exists (409), still unpublished
    assert [r.value["alert_id"] for r in publisher.sent] == [stored["alert_id"]]
    assert stored["published"] is True


def test_a_restricted_entry_alerts_on_the_callers_own_phone_an_analyst_entry_does_not() -> None:
    alerts, publisher = Alerts(), Publisher()
    entries = Entries(
        entry("phone:07700900123", id="analyst"),
        entry("phone:+44 7700 900123", id="restricted", restricted=True),
    )
    batch = [record(0, "I am on 07700 900123, call me back", phone="07700 900123")]
    processor(Watch(entries, alerts, publisher)).process(batch)
    assert [(r.key, r.value["restricted"]) for r in publisher.sent] == [("restricted", True)]
    assert all(valid(r) for r in publisher.sent)


class Searches:
    def __init__(self, found: dict[str, list[Match]]) -> None:
        self.found, self.calls = found, 0

    def matches(self, entries: Sequence[Any], report_ids: Sequence[str]) -> dict[str, list[Match]]:
        self.calls += 1
        return {rid: self.found[rid] for rid in report_ids if rid in self.found}


def test_saved_search_matches_join_the_sightings_with_their_reports_cluster() -> None:
    from pipeline.index.document import doc_id

    saved = entry(None, id="saved", search={"q": "depot"})
    searches = Searches({doc_id("hotline_call", "c1"): [Match(saved, None, "the <em>depot</em>")]})
    alerts, publisher = Alerts(), Publisher()
    watch = Watch(Entries(saved), alerts, publisher, searches)
    processor(watch).process([record(0, "Nothing here"), record(1, "Seen at the depot")])
    assert searches.calls == 1
    [sent] = publisher.sent
    assert (sent.key, sent.value["cluster_id"]) == ("saved", "one-story")
    assert sent.value["highlight"] == "the <em>depot</em>" and valid(sent)


def test_a_publisher_failure_pauses_the_batch_and_never_dead_letters_it() -> None:
    publisher = Publisher(failures=2)
    watch = Watch(Entries(entry("vehicle:AB12CDE", id="v")), Alerts(), publisher)
    batch = processor(watch)
    with pytest.raises(AlertsUnavailable):  # isolating records would only repeat the failure
        batch.process_isolated([record(0, "Van AB12 CDE")])
    sent: list[Rejection] = []

    async def send(dead: Rejection) -> None:
        sent.append(dead)

    runtime = Runtime(processor=batch, send_dead_letter=send, max_backoff_s=0.01)
    try:
        outcome = asyncio.run(runtime.handle("hotline-calls", [record(1, "Van AB12 CDE")]))
    finally:
        runtime.close()
    assert sent == [] and len(outcome.indexed) == 1
    assert len(publisher.sent) == 1
    assert runtime.agent("hotline-calls").backpressure_since is None


def test_records_carry_no_index_bookkeeping() -> None:
    [doc] = alert_documents(
        sightings(Watchlist([entry("vehicle:AB12CDE", id="v")]), "Van AB12 CDE.", {})
    ).values()
    value = alert_record({**doc, "published": True, "updated_at": NOW.isoformat()}).value
    assert value["kind"] == "alert" and value["schema_version"] == 1
    assert not {"published", "updated_at", "acknowledged"} & value.keys()
    assert value["seen_at"] == NOW.isoformat()
