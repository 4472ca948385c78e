"""Test support for the search API: a corpus with planted restricted values, keys, a client."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from elasticsearch import Elasticsearch, helpers
from fastapi import FastAPI

from pipeline.api.audit import AuditTrail, audit_index
from pipeline.api.models import AuditEntry
from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.mentions import Enrichment, EntityType, Mention
from pipeline.index.document import build_document, doc_id
from pipeline.index.mapping import ensure_index
from pipeline.ingest.report import Origin, Report, ReportLocation
from pipeline.ingest.sources import TOPIC_BY_SOURCE, Source
from pipeline.settings import Settings

# Test-only keys: the API reads keys from settings, never from code.
KEYS = {
    "analyst": "test-analyst-key-0001",
    "restricted": "test-restricted-key-0002",
    "operator": "test-operator-key-0003",
    "auditor": "test-auditor-key-0004",
}
USERS = {"analyst": "alice", "restricted": "rita", "operator": "otto", "auditor": "ada"}
KEYS_JSON = json.dumps({KEYS[role]: {"user": USERS[role], "role": role} for role in KEYS})

# Personal data planted under `restricted`: none of these may ever reach an analyst.
RESTRICTED_VALUES = (
    "Zebedee",
    "Quarrington",
    "447700900999",
    "zq.secret@example.org",
    "Ottoline",
    "Vexworth",
    "441614960123",
    "Perpetua",
    "Snodgrass",
)
XSS_TEXT = (
    'Pupil wrote <script>window.__pwned = "script"</script> and '
    "<img src=x onerror=\"window.__pwned = 'img'\"> on the bridge railings."
)


@dataclass(frozen=True)
class Sample:
    """One corpus report: what is indexed and the mentions found in it."""

    name: str
    source: Source
    source_id: str
    when: datetime
    text: str
    mentions: tuple[tuple[EntityType, str, str], ...]
    region: str | None
    cluster: str
    duplicate: bool = False
    restricted: dict[str, Any] | None = None
    url: str | None = None
    incident: str | None = None  # None: an incident of its own cluster (`inc-<cluster>`)


SAMPLES = (
    Sample(
        "pr1",
        Source.PUBLIC_REPORT,
        "pr-1",
        datetime(2026, 11, 1, 9, 0, tzinfo=UTC),
        "A man was filming the bridge at Tower Hill and gave his number 07700 900123 to a guard.",
        (
            (EntityType.PHONE, "07700 900123", "+447700900123"),
            (EntityType.LOCATION, "Tower Hill", "Tower Hill"),
        ),
        "London",
        "cluster-bridge",
        restricted={
            "reporter": {
                "name": "Zebedee Quarrington",
                "phone": "+447700900999",
                "email": "zq.secret@example.org",
            }
        },
    ),
    Sample(
        "pr2",
        Source.PUBLIC_REPORT,
        "pr-2",
        datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
        "A man was filming the bridge at Tower Hill and gave his number 07700 900123 to a guard!",
        ((EntityType.PHONE, "07700 900123", "+447700900123"),),
        "London",
        "cluster-bridge",
        duplicate=True,
        restricted={"reporter": {"name": "Zebedee Quarrington", "anonymous": False}},
    ),
    Sample(
        "hc1",
        Source.HOTLINE_CALL,
        "hc-1",
        datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
        "Caller saw vehicle AB12 CDE parked near the depot; the driver used 07700 900123.",
        (
            (EntityType.VEHICLE, "AB12 CDE", "AB12CDE"),
            (EntityType.PHONE, "07700 900123", "+447700900123"),
        ),
        "North West",
        "cluster-depot",
        restricted={"caller": {"name": "Ottoline Vexworth", "phone": "+441614960123"}},
        incident="inc-cluster-bridge",  # the same event as the bridge reports, in other words
    ),
    Sample(
        "rr1",
        Source.RADICALISATION_REFERRAL,
        "rr-1",
        datetime(2026, 11, 3, 8, 0, tzinfo=UTC),
        XSS_TEXT,
        (),
        "Wales",
        "cluster-school",
        restricted={"subject": {"name": "Perpetua Snodgrass", "age": 17}},
    ),
    Sample(
        "or1",
        Source.ONLINE_REFERRAL,
        "or-1",
        datetime(2026, 11, 4, 20, 0, tzinfo=UTC),
        "Video praising an attack posted by @BadActor https://example.com/watch?v=abc",
        (
            (EntityType.HANDLE, "@BadActor", "@badactor"),
            (EntityType.URL, "https://example.com/watch?v=abc", "https://example.com/watch?v=abc"),
        ),
        None,
        "cluster-video",
        url="https://example.com/watch?v=abc",
    ),
)


def _document(sample: Sample, offset: int) -> dict[str, Any]:
    mentions = []
    for entity_type, surface, value in sample.mentions:
        start = sample.text.index(surface)
        mentions.append(Mention(entity_type, surface, value, start, start + len(surface)))
    report = Report(
        source=sample.source,
        source_id=sample.source_id,
        received_at=sample.when,
        text=sample.text,
        url=sample.url,
        location=ReportLocation(text="Tower Hill, London") if sample.region == "London" else None,
        attributes={"channel": "online_form"} if sample.source is Source.PUBLIC_REPORT else {},
        restricted=sample.restricted or {},
        origin=Origin(
            topic=TOPIC_BY_SOURCE[sample.source],
            partition=0,
            offset=offset,
            timestamp_ms=int(sample.when.timestamp() * 1000),
        ),
    )
    enrichment = Enrichment.from_mentions(mentions, sample.region)
    cluster = ClusterAssignment(sample.cluster, sample.duplicate)
    return build_document(
        report,
        enrichment,
        cluster,
        ingested_at=datetime.now(UTC),
        incident=sample.incident or f"inc-{sample.cluster}",
    )


@dataclass
class Corpus:
    """The indexed samples: their document ids by sample name."""

    settings: Settings
    ids: dict[str, str]


def index_samples(
    es: Elasticsearch, settings: Settings, samples: tuple[Sample, ...]
) -> dict[str, str]:
    """Create the index the project's way and bulk-load `samples`; their ids by name."""
    ensure_index(es, settings)
    ids = {s.name: doc_id(s.source.value, s.source_id) for s in samples}
    actions = [
        {"_index": settings.index_alias, "_id": ids[s.name], "_source": _document(s, i)}
        for i, s in enumerate(samples)
    ]
    helpers.bulk(es, actions, refresh="wait_for")
    return ids


class Api:
    """Calls the app in process through httpx's ASGITransport, as a given role."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def request(
        self,
        method: str,
        path: str,
        *,
        role: str | None = "analyst",
        why: str | None = "test case 42",
        key: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers["X-API-Key"] = key
        elif role is not None:
            headers["X-API-Key"] = KEYS[role]
        if why is not None:
            headers["X-Justification"] = why

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
                return await client.request(method, path, headers=headers, **kwargs)

        return asyncio.run(go())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)


def audit_entries(es: Elasticsearch, settings: Settings) -> list[AuditEntry]:
    """Every audit record of this test's trail, newest first."""
    index = audit_index(settings)
    if es.indices.exists(index=index):
        es.indices.refresh(index=index)
    return AuditTrail(es, index).list(limit=1000)


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="api-under-test")
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
