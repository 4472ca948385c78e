"""Search API latency beside Elasticsearch direct: p50/p95 of typical analyst queries.

Bulk-loads N synthetic reports into a fresh alias (`bench-api-<random>` unless --alias), serves
the API with uvicorn on loopback, and times each query through the API (HTTP, auth, audit
write, response model) and the same Elasticsearch requests sent straight to Elasticsearch.
The web page's own calls are among them (search with facets, report, entity, cluster, queue,
map counts); each line says PASS when the API's p95 is at most 1.2 x direct p95 + 20 ms.

    .venv/bin/python -m bench.api --n 100000 --rounds 50
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from elasticsearch import Elasticsearch, helpers
from pydantic import SecretStr

from pipeline.api import linking
from pipeline.api.app import create_app
from pipeline.api.queries import (
    SearchParams,
    SortOrder,
    cluster_members_body,
    normalise_entity_value,
    report_body,
    search_body,
)
from pipeline.clients import elasticsearch_client
from pipeline.enrich.mentions import EntityType
from pipeline.enrich.priority import report_priority
from pipeline.index.document import doc_id
from pipeline.index.mapping import ensure_index
from pipeline.settings import COMMON_SELECTOR_CLUSTERS, Settings, get_settings
from tests.harness import free_port

# The target: through the API at most this much slower at p95 than straight to Elasticsearch.
TARGET_RATIO, TARGET_PLUS_MS = 1.2, 20.0

REGIONS = [
    "London",
    "North East",
    "North West",
    "South East",
    "West Midlands",
    "Eastern",
    "East Midlands",
    "Scotland",
    "South West",
    "Wales",
    "Northern Ireland",
]
SOURCES = ["public_report", "hotline_call", "online_referral", "radicalisation_referral"]
# Narrative vocabulary of the synthetic reports.
_VOCABULARY = """
man woman van car bridge station filming photographs bag left unattended suspicious package
video online post praising attack chat group school pupil concern talk weapon knife fireworks
chemicals drone stadium crowd rail depot airport
"""
WORDS = _VOCABULARY.split()


def phone(i: int) -> str:
    return f"+4477009{i % 100000:05d}"


def synthetic(n: int, seed: int = 7) -> Iterator[tuple[str, dict[str, Any]]]:
    """(id, _source) of n reports; ~1 in 5 is a near-duplicate of an earlier one."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        source = SOURCES[i % 4]
        source_id = f"b-{i}"
        cluster = f"c-{rng.randrange(max(1, i))}" if i and rng.random() < 0.2 else f"c-{i}"
        number = phone(rng.randrange(5000))
        text = " ".join(rng.choice(WORDS) for _ in range(40)) + f" call {number}"
        vehicle = f"AB{rng.randrange(10, 99)}CDE"
        entities = {"phone": [number], "vehicle": [vehicle]}
        if rng.random() < 0.05:
            entities["proscribed_org"] = ["National Action"]
        priority = report_priority(source, entities)
        yield (
            doc_id(source, source_id),
            {
                "source": source,
                "source_id": source_id,
                "@timestamp": (start + timedelta(minutes=5 * i)).isoformat(),
                "text": text,
                "entities": entities,
                "priority": priority.score,
                "priority_reasons": list(priority.reasons),
                "entity_mentions": [
                    {
                        "type": "phone",
                        "text": number,
                        "value": number,
                        "start": len(text) - len(number),
                        "end": len(text),
                    }
                ],
                "cluster_id": cluster,
                "duplicate": cluster != f"c-{i}",
                "region": REGIONS[rng.randrange(len(REGIONS))],
                "restricted": {"reporter": {"name": f"Person {i}"}},
            },
        )


def load(es: Elasticsearch, settings: Settings, n: int) -> None:
    index = ensure_index(es, settings)
    es.indices.put_settings(index=index, settings={"index.refresh_interval": "-1"})
    started = time.perf_counter()
    actions = ({"_index": settings.index_alias, "_id": i, "_source": s} for i, s in synthetic(n))
    results = helpers.streaming_bulk(es, actions, chunk_size=2000, raise_on_error=True)
    for done, (ok, item) in enumerate(results, start=1):
        if done % 10_000 == 0 or done == n:
            rate = done / (time.perf_counter() - started)
            print(f"  indexed {done:>7}/{n} ({rate:,.0f}/s)", flush=True)
        assert ok, item
    es.indices.put_settings(index=index, settings={"index.refresh_interval": "1s"})
    es.indices.refresh(index=index)
    es.indices.forcemerge(index=index, max_num_segments=1)


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples) * 1000, cuts[18] * 1000


def timed(fn: Callable[[], Any], rounds: int) -> list[float]:
    fn()  # warm caches once, untimed
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def cases(
    es: Elasticsearch, alias: str, api: httpx.Client
) -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    """(name, through the API, straight to Elasticsearch) per typical analyst query: the same
    Elasticsearch requests the API makes for it, one after another."""

    def api_search(**params: Any) -> Callable[[], Any]:
        def call() -> Any:
            response = api.get("/api/search", params=params)
            response.raise_for_status()
            return response.json()

        return call

    def api_post(**body: Any) -> Callable[[], Any]:
        def call() -> Any:
            response = api.post("/api/search", json=body)
            response.raise_for_status()
            return response.json()

        return call

    def es_search(params: SearchParams) -> Callable[[], Any]:
        body = search_body(params, restricted=False)
        return lambda: es.search(index=alias, body=body)

    def es_report(report_id: str) -> Callable[[], Any]:
        def calls() -> Any:
            hit = es.search(index=alias, body=report_body(report_id, False))["hits"]["hits"][0]
            source = hit["_source"]
            es.search(
                index=alias, body=cluster_members_body(source["cluster_id"], hit["_id"], False)
            )
            selectors = linking.strong_selectors(source)
            common = linking.common_selectors(es, alias, selectors, COMMON_SELECTOR_CLUSTERS)
            return linking.linked_reports(es, alias, source, skip=common)

        return calls

    first = api_search(q="", sort="newest", collapse="false", size=20)()
    cursor = first["next_cursor"]
    some_id = first["results"][0]["id"]
    number = normalise_entity_value(EntityType.PHONE, phone(42))
    clustered = es.search(
        index=alias, size=1, query={"term": {"duplicate": True}}, source=["cluster_id"]
    )["hits"]["hits"][0]["_source"]["cluster_id"]
    return [
        (
            "free text, folded",
            api_search(q="suspicious package station"),
            es_search(SearchParams(q="suspicious package station")),
        ),
        (
            "text + region + since",
            api_search(q="drone", region="London", since="2026-03-01T00:00:00Z"),
            es_search(
                SearchParams(q="drone", regions=("London",), since=datetime(2026, 3, 1, tzinfo=UTC))
            ),
        ),
        (
            "entity filter, newest",
            api_search(entity=f"phone:{number}", sort="newest", collapse="false"),
            es_search(
                SearchParams(
                    entities=((EntityType.PHONE, number),), sort=SortOrder.NEWEST, collapse=False
                )
            ),
        ),
        (
            "page 2 (search_after)",
            api_search(sort="newest", collapse="false", cursor=cursor),
            es_search(SearchParams(sort=SortOrder.NEWEST, collapse=False, cursor=cursor)),
        ),
        # the web page's calls, as workbench.js, map.js and app.js send them (POST bodies)
        (
            "page: search + facets",
            api_post(q="bridge bag", sort="relevance", collapse=True, size=20),
            es_search(SearchParams(q="bridge bag", collapse=True, size=20)),
        ),
        (
            "page: report view",
            lambda: api.get(f"/api/reports/{some_id}").raise_for_status(),
            es_report(some_id),
        ),
        (
            "page: entity view",
            lambda: api.get("/api/entities/phone", params={"value": number}).raise_for_status(),
            lambda: linking.entity_view(
                es, alias, EntityType.PHONE, number, min_clusters=COMMON_SELECTOR_CLUSTERS
            ),
        ),
        (
            "page: cluster view",
            api_post(cluster=[clustered], sort="oldest", collapse=False, size=100),
            es_search(
                SearchParams(clusters=(clustered,), sort=SortOrder.OLDEST, collapse=False, size=100)
            ),
        ),
        (
            "page: queue (priority)",
            api_post(region=["London"], sort="priority", collapse=False, size=20),
            es_search(SearchParams(regions=("London",), sort=SortOrder.PRIORITY, collapse=False)),
        ),
        (
            "page: map counts",
            api_post(q="drone", collapse=False, size=1),
            es_search(SearchParams(q="drone", collapse=False, size=1)),
        ),
    ]


def verdict(es_p95: float, api_p95: float) -> tuple[float, str]:
    """The target p95 for the API, and PASS or FAIL."""
    target = TARGET_RATIO * es_p95 + TARGET_PLUS_MS
    return target, "PASS" if api_p95 <= target else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="synthetic reports to index")
    parser.add_argument("--rounds", type=int, default=50, help="timed runs per query")
    parser.add_argument(
        "--alias", default=None, help="reuse this alias (skips loading if it has docs)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench indices afterwards")
    args = parser.parse_args()

    key = secrets.token_urlsafe(24)
    alias = args.alias or f"bench-api-{secrets.token_hex(4)}"
    settings = get_settings().model_copy(
        update={
            "index_alias": alias,
            "api_keys": SecretStr(json.dumps({key: {"user": "bench", "role": "analyst"}})),
            # The bench times queries back to back; the per-key rate limit is not what it measures.
            "api_rate_burst": 1_000_000,
        }
    )
    es = elasticsearch_client(settings)
    try:
        have = es.count(index=alias)["count"] if es.indices.exists_alias(name=alias) else 0
        if have < args.n:
            print(f"loading {args.n} synthetic reports into {alias}", flush=True)
            load(es, settings, args.n)
        total = es.count(index=alias)["count"]
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, es), host="127.0.0.1", port=port, log_level="warning"
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        headers = {"X-API-Key": key, "X-Justification": "benchmark"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as api:
            print(f"\n{total} reports, {args.rounds} runs per query, latency in ms")
            print(f"target: API p95 <= {TARGET_RATIO} x ES p95 + {TARGET_PLUS_MS:.0f} ms")
            print(
                f"{'query':<26} {'ES p50':>8} {'ES p95':>8} "
                f"{'API p50':>8} {'API p95':>8} {'+p50':>7} {'target':>8}  verdict"
            )
            for name, via_api, direct in cases(es, alias, api):
                es_p50, es_p95 = percentiles(timed(direct, args.rounds))
                api_p50, api_p95 = percentiles(timed(via_api, args.rounds))
                target, outcome = verdict(es_p95, api_p95)
                print(
                    f"{name:<26} {es_p50:>8.1f} {es_p95:>8.1f} {api_p50:>8.1f} {api_p95:>8.1f}"
                    f" {api_p50 - es_p50:>7.1f} {target:>8.1f}  {outcome}",
                    flush=True,
                )
        server.should_exit = True
        thread.join(timeout=30)
    finally:
        if not args.keep:
            es.options(ignore_status=404).indices.delete(index=f"{alias}-*", expand_wildcards="all")
            es.options(ignore_status=404).indices.delete_index_template(name=alias)
        es.close()


if __name__ == "__main__":
    main()
