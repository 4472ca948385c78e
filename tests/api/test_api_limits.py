"""The API cannot be exhausted without a key: bounded metrics labels, the key checked before the
body is read, a capped body, rate limits, refused requests audited in few records, and an empty
key table that refuses everyone instead of crashing."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from api_support import KEYS, Api, Corpus, audit_entries
from elasticsearch import Elasticsearch
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from pipeline.api.app import create_app
from pipeline.api.refusals import RefusalLog
from pipeline.ops.metrics import render
from pipeline.settings import Settings

pytestmark = pytest.mark.integration

KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"}
CHUNK = b"x" * 65_536


def call(
    app: FastAPI, method: str, path: str, headers: dict[str, str], chunks: list[bytes]
) -> tuple[int, int]:
    """Drive the ASGI app with a body in `chunks`: (status, how many chunks the app pulled)."""
    pulled = 0
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled < len(chunks):
            pulled += 1
            return {
                "type": "http.request",
                "body": chunks[pulled - 1],
                "more_body": pulled < len(chunks),
            }
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("192.0.2.7", 40000),
        "server": ("api.test", 80),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return statuses[0], pulled


def api_request_labels() -> list[dict[str, str]]:
    """The label sets of the request counter (read with the Prometheus parser: a route
    template such as `/api/reports/{report_id}` holds braces)."""
    text = render()[0].decode()
    return [
        dict(sample.labels)
        for family in text_string_to_metric_families(text)
        if family.name == "ct_pipeline_api_requests"
        for sample in family.samples
        if sample.name == "ct_pipeline_api_requests_total"
    ]


def test_made_up_methods_and_paths_add_no_metrics_series(api: Api) -> None:
    for i in range(5):
        api.request(f"BREW{i}", "/api/search", role=None)
        api.request(f"BREW{i}", "/api/search", role="analyst")
        api.request("GET", f"/no/such/path/{i}", role=None)
        api.request("GET", f"/no/such/path/{i}", role="analyst")
    labels = api_request_labels()
    assert {label["method"] for label in labels} <= KNOWN_METHODS
    assert {"method": "OTHER", "route": "/api/search", "status": "405"} in labels
    assert {"method": "OTHER", "route": "/api/search", "status": "401"} in labels
    assert not any("/no/such" in label["route"] for label in labels)
    assert {"method": "GET", "route": "unmatched", "status": "404"} in labels


def test_the_key_is_checked_before_any_of_the_body_is_read(app: FastAPI) -> None:
    flood = [CHUNK] * 100
    assert call(app, "POST", "/api/search", {"x-justification": "j"}, flood) == (401, 0)
    wrong = {"x-api-key": "not-a-key-at-all-xxxx", "content-type": "application/json"}
    assert call(app, "POST", "/api/search", wrong, flood) == (401, 0)


def test_a_body_over_the_limit_is_413_without_reading_it_whole(app: FastAPI) -> None:
    key = {"x-api-key": KEYS["analyst"], "x-justification": "j", "content-type": "application/json"}
    declared = {**key, "content-length": str(100 * len(CHUNK))}
    assert call(app, "POST", "/api/search", declared, [CHUNK] * 100) == (413, 0)
    # No length given: read only up to the limit (64 KiB here), then refused.
    status, pulled = call(app, "POST", "/api/search", key, [CHUNK] * 100)
    assert (status, pulled) == (413, 2)
    assert call(app, "POST", "/api/search", key, [b'{"q": ', b'"bridge"}']) == (200, 2)


def test_rate_limits_per_key_and_per_keyless_client(
    es: Elasticsearch, corpus: Corpus, api_settings: Settings
) -> None:
    slow = api_settings.model_copy(update={"api_rate_per_s": 0.001, "api_rate_burst": 3})
    api = Api(create_app(slow, es))
    assert [api.get("/api/whoami").status_code for _ in range(3)] == [200] * 3
    limited = api.get("/api/whoami")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert api.get("/api/whoami", role="restricted").status_code == 200  # its own bucket
    assert [api.get("/api/whoami", role=None).status_code for _ in range(4)] == [
        401,
        401,
        401,
        429,
    ]


def test_refused_requests_are_audited_and_logged_in_a_few_records(
    es: Elasticsearch, corpus: Corpus, app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1000.0]
    app.state.boundary.refusals = RefusalLog(window_s=60, clock=lambda: now[0])
    api = Api(app)
    with caplog.at_level(logging.WARNING, logger="pipeline.api.middleware"):
        for _ in range(40):
            assert api.get("/api/search", key="guessing-at-keys-0000").status_code == 401
        for _ in range(5):
            assert api.get("/api/search", params={"q": "x"}, role="operator").status_code == 403
        first = [e for e in audit_entries(es, corpus.settings) if e.action == "refused"]
        now[0] += 61  # the minute is over: the next request closes its windows
        assert api.get("/healthz", role=None).status_code == 200
    refused = [e for e in audit_entries(es, corpus.settings) if e.action == "refused"]
    counts = sorted((e.user, e.query["count"], tuple(e.query["statuses"].items())) for e in refused)
    assert sorted((e.user, e.query["count"]) for e in first) == [("anonymous", 1), ("otto", 1)]
    assert counts == [
        ("anonymous", 1, (("401", 1),)),
        ("anonymous", 39, (("401", 39),)),
        ("otto", 1, (("403", 1),)),
        ("otto", 4, (("403", 4),)),
    ]
    assert all(e.query["client"] == "127.0.0.1" for e in refused)
    assert all("guessing-at-keys" not in e.model_dump_json() for e in refused)
    assert [r.getMessage() for r in caplog.records].count("refused API requests") == 4


def test_an_empty_key_table_refuses_everyone_with_a_warning(
    es: Elasticsearch,
    corpus: Corpus,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("PIPELINE_API_KEYS", "")  # what docker compose passes when it is unset
    from_env = Settings().api_keys
    assert from_env is not None and from_env.get_secret_value() == ""
    for keys in (from_env, SecretStr("  \n")):
        with caplog.at_level(logging.WARNING, logger="pipeline.api.app"):
            app = create_app(corpus.settings.model_copy(update={"api_keys": keys}), es)
        assert "PIPELINE_API_KEYS is empty" in caplog.text
        api = Api(app)
        assert api.get("/healthz", role=None).status_code == 200
        assert api.get("/api/search", key=KEYS["analyst"]).status_code == 401
        assert api.get("/metrics", key=KEYS["operator"]).status_code == 401
        caplog.clear()
