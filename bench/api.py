"""Search API latency beside Elasticsearch direct: p50/p95 of typical analyst queries.

Bulk-loads N synthetic reports into a fresh alias (`bench-api-<random>` unless --alias), serves
the API with uvicorn on loopback, and times each query through the API (HTTP, auth, audit
write, response model) and the same request body sent straight to Elasticsearch.

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
from pipeline.api.queries import SearchParams, SortOrder, normalise_entity_value, search_body
from pipeline.clients import elasticsearch_client
from pipeline.enrich.mentions import EntityType
from pipeline.index.document import doc_id
from pipeline.index.mapping import ensure_index
from pipeline.settings import Settings, get_settings
from tests.harness import free_port

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
        yield (
            doc_id(source, source_id),
            {
                "source": source,
                "source_id": source_id,
                "@timestamp": (start + timedelta(minutes=5 * i)).isoformat(),
                "text": text,
                "entities": {"phone": [number], "vehicle": [vehicle]},
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
    """(name, through the API, straight to Elasticsearch) per typical analyst query."""

    def api_search(**params: Any) -> Callable[[], Any]:
        def call() -> Any:
            response = api.get("/api/search", params=params)
            response.raise_for_status()
            return response.json()

        return call

    def es_search(params: SearchParams) -> Callable[[], Any]:
        body = search_body(params, restricted=False)
        return lambda: es.search(index=alias, body=body)

    first = api_search(q="", sort="newest", collapse="false", size=20)()
    cursor = first["next_cursor"]
    some_id = first["results"][0]["id"]
    number = normalise_entity_value(EntityType.PHONE, phone(42))
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
        (
            "entity view",
            lambda: api.get("/api/entities/phone", params={"value": number}).raise_for_status(),
            lambda: es.search(index=alias, body=linking.entity_query(EntityType.PHONE, number, 50)),
        ),
        (
            "report view (3 ES calls)",
            lambda: api.get(f"/api/reports/{some_id}").raise_for_status(),
            lambda: es.search(index=alias, query={"ids": {"values": [some_id]}}),
        ),
    ]


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
            print(
                f"{'query':<26} {'ES p50':>8} {'ES p95':>8} "
                f"{'API p50':>8} {'API p95':>8} {'+p50':>7}"
            )
            for name, via_api, direct in cases(es, alias, api):
                es_p50, es_p95 = percentiles(timed(direct, args.rounds))
                api_p50, api_p95 = percentiles(timed(via_api, args.rounds))
                print(
                    f"{name:<26} {es_p50:>8.1f} {es_p95:>8.1f} {api_p50:>8.1f} {api_p95:>8.1f}"
                    f" {api_p50 - es_p50:>7.1f}",
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
