"""`/api/alerts/stream` over real HTTP against the real alerts index: live events, resuming
with Last-Event-ID, acknowledgements, other owners and restricted alerts kept out, audit."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from api_support import KEYS, Api, Corpus, audit_entries
from elasticsearch import Elasticsearch

from pipeline.enrich.mentions import EntityType, Mention
from pipeline.enrich.watch.alerts import AlertWriter, Sighting, alerts_index, ensure_alerts_index
from pipeline.enrich.watch.entries import WatchEntry
from pipeline.enrich.watch.matcher import Match, alert_id
from pipeline.ops.metrics import REGISTRY

pytestmark = pytest.mark.integration

PHONE = Mention(EntityType.PHONE, "07700 900123", "+447700900123", 10, 22)
STREAM = "/api/alerts/stream"


def entry(entry_id: str, owner: str = "alice", **fields: Any) -> WatchEntry:
    return WatchEntry(
        id=entry_id,
        owner=owner,
        justification="Operation Stream",
        target="phone:07700 900123",
        priority="high",
        **fields,
    )


def write_sighting(
    es: Elasticsearch,
    corpus: Corpus,
    watched: WatchEntry,
    cluster: str,
    report: str,
    *,
    seen_at: datetime | None = None,
) -> str:
    """Write one sighting into the alias's real alerts index as the worker does; the alert id."""
    ensure_alerts_index(es, corpus.settings.index_alias)
    AlertWriter(es, corpus.settings.index_alias).write(
        [
            Sighting(
                Match(watched, PHONE),
                report_id=report,
                cluster_id=cluster,
                source="hotline_call",
                seen_at=seen_at or datetime.now(UTC),
            )
        ]
    )
    return alert_id(watched.id, cluster)


def headers(role: str = "analyst", **extra: str) -> dict[str, str]:
    return {
        "X-API-Key": KEYS[role],
        "X-Justification": "Operation Stream, tasking 9",
        "X-Audit-Channel": "web",
        **extra,
    }


@dataclass
class Event:
    """One server-sent event as a client sees it."""

    type: str
    id: str | None
    data: str

    @property
    def alert(self) -> dict[str, Any]:
        return dict(json.loads(self.data))


class EventReader:
    """Reads a stream's blocks; `next_alert` skips the heartbeats."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()
        self.last_id: str | None = None

    def next_block(self) -> Event:
        kind, data, block_id = "message", [], None
        for line in self._lines:
            if not line:
                if block_id is not None:
                    self.last_id = block_id
                return Event(kind, block_id, "\n".join(data))
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                kind = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                block_id = value
        raise AssertionError("the stream ended")

    def next_alert(self, within_s: float = 20.0) -> Event:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            event = self.next_block()
            if event.type == "alert":
                return event
            assert event.type == "message", event
        raise AssertionError(f"no alert within {within_s:.0f}s")

    def alerts_until(self, done: Any, within_s: float = 20.0) -> dict[str, dict[str, Any]]:
        """Alerts by id, latest state each, until `done(states)` holds."""
        states: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + within_s
        while not done(states):
            assert time.monotonic() < deadline, f"only got {sorted(states)}"
            event = self.next_alert(deadline - time.monotonic())
            states[event.alert["id"]] = event.alert
        return states


@contextmanager
def open_stream(base_url: str, role: str = "analyst", **extra: str) -> Iterator[EventReader]:
    timeout = httpx.Timeout(10.0, read=30.0)
    with (
        httpx.Client(base_url=base_url, timeout=timeout) as client,
        client.stream("GET", STREAM, headers=headers(role, **extra)) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "default-src 'none'" in response.headers["content-security-policy"]
        reader = EventReader(response)
        opening = reader.next_block()  # the position it starts from, before any alert
        assert opening.type == "message" and opening.id and not opening.data
        yield reader


def stream_requests_finished() -> float:
    labels = {"method": "GET", "route": STREAM, "status": "200"}
    return REGISTRY.get_sample_value("ct_pipeline_api_requests_total", labels) or 0.0


def test_new_alerts_and_new_hits_arrive_live_and_a_resumed_stream_misses_nothing(
    es: Elasticsearch, corpus: Corpus, base_url: str
) -> None:
    phone, other = entry("e-phone"), entry("e-other")
    finished = stream_requests_finished()
    with open_stream(base_url) as stream:
        first = write_sighting(es, corpus, phone, "cluster-bridge", "r1")
        event = stream.next_alert()
        assert event.alert["id"] == first
        assert event.alert["count"] == 1
        assert event.alert["mention"]["text"] == "07700 900123"
        assert event.alert["target"] == {"type": "phone", "key": "+447700900123"}
        assert event.alert["priority"] == "high"
        assert event.alert["acknowledged"] is None

        write_sighting(es, corpus, phone, "cluster-bridge", "r2")  # a second report, one alert
        event = stream.next_alert()
        assert (event.alert["id"], event.alert["count"]) == (first, 2)
        resume_from = event.id
        assert resume_from is not None and int(resume_from) > 0

        # the API answers other requests while a stream is open
        started = time.monotonic()
        who = httpx.get(f"{base_url}/api/whoami", headers=headers(), timeout=5)
        assert who.status_code == 200 and time.monotonic() - started < 2.0

    # While nobody listens: a third report, another entry's alert, an acknowledgement.
    write_sighting(es, corpus, phone, "cluster-bridge", "r3")
    second = write_sighting(es, corpus, other, "cluster-depot", "r4")
    acked = httpx.post(
        f"{base_url}/api/alerts/{first}/ack",
        headers=headers(),
        json={"outcome": "relevant", "note": "same caller"},
        timeout=10,
    )
    assert acked.status_code == 200, acked.text

    with open_stream(base_url, **{"Last-Event-ID": resume_from}) as stream:
        states = stream.alerts_until(
            lambda s: (
                s.get(first, {}).get("count") == 3 and s[first].get("acknowledged") and second in s
            )
        )
        assert states[first]["acknowledged"]["outcome"] == "relevant"
        assert states[first]["acknowledged"]["by"] == "alice"
        assert states[second]["count"] == 1

        # acknowledged while listening: the change comes live too
        httpx.post(
            f"{base_url}/api/alerts/{second}/ack",
            headers=headers(),
            json={"outcome": "duplicate"},
            timeout=10,
        ).raise_for_status()
        event = stream.next_alert()
        assert event.alert["id"] == second
        assert event.alert["acknowledged"]["outcome"] == "duplicate"

    # Both streams ended on the server when their clients went, not at some later heartbeat.
    deadline = time.monotonic() + 5
    while stream_requests_finished() < finished + 2:
        assert time.monotonic() < deadline, "a stream kept running after its client left"
        time.sleep(0.05)

    streams = [e for e in audit_entries(es, corpus.settings) if e.action == "alert_stream"]
    assert [(e.user, e.role, e.channel) for e in streams] == [("alice", "analyst", "web")] * 2
    assert {e.justification for e in streams} == {"Operation Stream, tasking 9"}
    assert streams[0].query["from"] == int(resume_from)  # newest first: the resumed one


def test_a_position_resumes_from_its_time_and_a_fresh_stream_starts_now(
    es: Elasticsearch, corpus: Corpus, base_url: str
) -> None:
    now = datetime.now(UTC)
    long_ago = write_sighting(
        es, corpus, entry("e-1"), "c-1", "r1", seen_at=now - timedelta(hours=2)
    )
    after_position = write_sighting(
        es, corpus, entry("e-2"), "c-2", "r2", seen_at=now - timedelta(minutes=9)
    )
    # Written while no stream was open: searchable long before the stream below looks.
    es.indices.refresh(index=alerts_index(corpus.settings.index_alias))
    position = int((now - timedelta(minutes=10)).timestamp() * 1000)
    with open_stream(base_url, **{"Last-Event-ID": str(position)}) as stream:
        states = stream.alerts_until(lambda s: after_position in s)
    assert long_ago not in states

    with open_stream(base_url) as stream:
        sentinel = write_sighting(es, corpus, entry("e-3"), "c-3", "r3")
        states = stream.alerts_until(lambda s: sentinel in s)
    assert set(states) == {sentinel}  # nothing from before the stream's window


def test_only_the_callers_own_alerts_and_never_a_restricted_one_to_an_analyst(
    es: Elasticsearch, corpus: Corpus, base_url: str
) -> None:
    with open_stream(base_url, "analyst") as alice, open_stream(base_url, "restricted") as rita:
        ritas = write_sighting(es, corpus, entry("e-rita", owner="rita"), "c-1", "r1")
        # an alert of a restricted entry under alice's name (her role changed since, say)
        hidden = write_sighting(es, corpus, entry("e-old", restricted=True), "c-2", "r2")
        ritas_restricted = write_sighting(
            es, corpus, entry("e-rita-r", owner="rita", restricted=True), "c-3", "r3"
        )
        sentinel = write_sighting(es, corpus, entry("e-alice"), "c-4", "r4")
        seen_by_alice = alice.alerts_until(lambda s: sentinel in s)
        seen_by_rita = rita.alerts_until(lambda s: {ritas, ritas_restricted} <= set(s))
    assert set(seen_by_alice) == {sentinel}
    assert hidden not in seen_by_alice
    assert seen_by_rita[ritas_restricted]["restricted"] is True
    assert sentinel not in seen_by_rita


def test_refusals_come_before_any_stream(api: Api) -> None:
    assert api.get(STREAM, role=None).status_code == 401
    assert api.get(STREAM, role="operator").status_code == 403
    assert api.get(STREAM, why=None).status_code == 400
    bad = api.get(STREAM, headers={"Last-Event-ID": "yesterday"})
    assert bad.status_code == 422
    assert "Last-Event-ID" in bad.json()["detail"]
