"""Unit tests of the API's plain parts: keys and roles, request bodies, cursors, response models."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from pipeline.api.auth import Permission, Role, authenticate, load_keys
from pipeline.api.models import ReportOut, Segment, split_fragment
from pipeline.api.queries import (
    BadCursorError,
    SearchParams,
    SortOrder,
    decode_cursor,
    encode_cursor,
    normalise_entity_value,
    search_body,
)
from pipeline.api.ratelimit import RateLimiter
from pipeline.api.refusals import Refusal, RefusalLog
from pipeline.enrich.mentions import EntityType
from pipeline.errors import ConfigError
from pipeline.settings import Settings

KEYS = {
    "k-analyst-0123456789": {"user": "alice", "role": "analyst"},
    "k-restricted-0123456": {"user": "rita", "role": "restricted"},
    "k-operator-012345678": {"user": "otto", "role": "operator"},
}


def settings_with(keys: object) -> Settings:
    return Settings(api_keys=SecretStr(json.dumps(keys)))


def test_keys_map_to_principals_and_roles_to_rights() -> None:
    keys = load_keys(settings_with(KEYS))
    alice = authenticate(keys, "k-analyst-0123456789")
    rita = authenticate(keys, "k-restricted-0123456")
    otto = authenticate(keys, "k-operator-012345678")
    assert alice is not None and (alice.user, alice.role) == ("alice", Role.ANALYST)
    assert rita is not None and rita.sees_restricted and not alice.sees_restricted
    assert otto is not None and otto.can(Permission.METRICS) and not otto.can(Permission.SEARCH)
    assert not alice.can(Permission.METRICS)


@pytest.mark.parametrize(
    "presented", [None, "", "k-analyst-012345678", "k-analyst-0123456789 ", "x" * 500]
)
def test_wrong_or_missing_keys_authenticate_nobody(presented: str | None) -> None:
    assert authenticate(load_keys(settings_with(KEYS)), presented) is None


def test_no_keys_configured_lets_nobody_in() -> None:
    assert load_keys(Settings()) == ()
    assert authenticate((), "anything-at-all-here") is None


@pytest.mark.parametrize(
    "raw",
    [
        "not json {",
        json.dumps(["a list"]),
        json.dumps({"short": {"user": "u", "role": "analyst"}}),
        json.dumps({"long-enough-key-0001": {"user": "u", "role": "admin"}}),
        json.dumps({"long-enough-key-0001": {"role": "analyst"}}),
    ],
)
def test_bad_key_configuration_is_refused_without_echoing_keys(raw: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_keys(Settings(api_keys=SecretStr(raw)))
    assert "long-enough-key-0001" not in str(info.value)
    assert "short" not in str(info.value)


def test_analyst_bodies_never_ask_for_restricted_fields() -> None:
    params = SearchParams(q="bridge", entities=((EntityType.PHONE, "07700 900123"),))
    body = search_body(params, restricted=False)
    assert body["_source"]["excludes"][-2:] == ["restricted", "restricted.*"]
    assert list(body["highlight"]["fields"]) == ["text"]
    assert not any("restricted" in name for name in body["aggs"])
    for part in ("must", "should"):
        query = body["query"]["bool"]["must"][0]["bool"][part][0]["simple_query_string"]
        assert not any("restricted" in f for f in query["fields"])
    assert body["query"]["bool"]["filter"] == [{"term": {"entities.phone": "+447700900123"}}]
    assert "restricted" not in json.dumps(search_body(params, restricted=True)["_source"])


def test_empty_query_matches_all_and_collapse_pages_by_offset() -> None:
    body = search_body(SearchParams(collapse=True, size=5), restricted=False)
    assert body["query"]["bool"]["must"] == [{"match_all": {}}]
    assert body["collapse"]["field"] == "cluster_id"
    assert body["collapse"]["inner_hits"]["size"] == 0
    assert body["from"] == 0 and "search_after" not in body
    cursor = encode_cursor(SortOrder.RELEVANCE, start=5)
    paged = search_body(SearchParams(collapse=True, size=5, cursor=cursor), restricted=False)
    assert paged["from"] == 5


def test_flat_search_pages_with_search_after() -> None:
    after = [1730451600000, "public_report", "pr-1"]
    cursor = encode_cursor(SortOrder.NEWEST, after=after)
    body = search_body(
        SearchParams(sort=SortOrder.NEWEST, collapse=False, cursor=cursor), restricted=False
    )
    assert body["search_after"] == after
    assert body["sort"][-2:] == [{"source": "asc"}, {"source_id": "asc"}]


@pytest.mark.parametrize(
    ("cursor", "order", "collapse"),
    [
        ("%%%", SortOrder.NEWEST, False),
        (encode_cursor(SortOrder.NEWEST, after=[1, "a", "b"]), SortOrder.OLDEST, False),
        (encode_cursor(SortOrder.NEWEST, after=[1, "a"]), SortOrder.NEWEST, False),
        (encode_cursor(SortOrder.NEWEST, after=[{"x": 1}, "a", "b"]), SortOrder.NEWEST, False),
        (encode_cursor(SortOrder.NEWEST, start=10_000), SortOrder.NEWEST, True),
        (encode_cursor(SortOrder.NEWEST, after=[1, "a", "b"]), SortOrder.NEWEST, True),
    ],
)
def test_foreign_cursors_are_refused(cursor: str, order: SortOrder, collapse: bool) -> None:
    with pytest.raises(BadCursorError):
        decode_cursor(cursor, order, collapse)


@pytest.mark.parametrize(
    ("entity_type", "typed", "indexed"),
    [
        (EntityType.PHONE, "07700 900123", "+447700900123"),
        (EntityType.VEHICLE, "ab12 cde", "AB12CDE"),
        (EntityType.POSTCODE, "sw1a1aa", "SW1A 1AA"),
        (EntityType.EMAIL, "Someone@Example.ORG", "someone@example.org"),
        (EntityType.HANDLE, "BadActor", "@badactor"),
        (EntityType.URL, "HTTPS://Example.com/x#frag", "https://example.com/x"),
        (EntityType.PERSON, " John Smith ", "John Smith"),
        (EntityType.PHONE, "not a phone", "not a phone"),
    ],
)
def test_selectors_are_normalised_like_enrichment(
    entity_type: EntityType, typed: str, indexed: str
) -> None:
    assert normalise_entity_value(entity_type, typed) == indexed


def test_fragments_split_into_plain_segments() -> None:
    fragment = "a <b>\ue000bomb\ue001</b> near \ue000bridge\ue001"
    assert split_fragment(fragment) == [
        Segment(text="a <b>"),
        Segment(text="bomb", hit=True),
        Segment(text="</b> near "),
        Segment(text="bridge", hit=True),
    ]
    # A stray marker in the text itself only ever becomes plain text.
    assert "".join(s.text for s in split_fragment("x\ue001y")) == "xy"


def test_report_model_drops_restricted_unless_allowed() -> None:
    hit = {
        "_id": "abc",
        "_source": {
            "source": "public_report",
            "source_id": "pr-1",
            "text": "t",
            "restricted": {"reporter": {"name": "Secret Person"}},
            "extra": {"anything": "unvetted"},
        },
    }
    analyst = ReportOut.from_hit(hit, sees_restricted=False).model_dump_json()
    assert "Secret Person" not in analyst and "unvetted" not in analyst
    restricted = ReportOut.from_hit(hit, sees_restricted=True)
    assert restricted.restricted == {"reporter": {"name": "Secret Person"}}


def test_empty_or_blank_key_tables_mean_no_keys() -> None:
    for raw in ("", "  ", "\n"):
        assert load_keys(Settings(api_keys=SecretStr(raw))) == ()


def test_auditors_read_the_trail_and_nothing_else() -> None:
    keys = load_keys(settings_with({"k-auditor-0123456789": {"user": "ada", "role": "auditor"}}))
    ada = authenticate(keys, "k-auditor-0123456789")
    assert ada is not None and ada.can(Permission.READ_AUDIT)
    assert not ada.can(Permission.SEARCH) and not ada.can(Permission.METRICS)
    assert not any(
        p.can(Permission.READ_AUDIT)
        for p in (authenticate(load_keys(settings_with(KEYS)), k) for k in KEYS)
        if p
    )


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(2.0, 3, clock=lambda: now[0], max_buckets=2)
    assert [limiter.take("a") for _ in range(3)] == [None, None, None]
    wait = limiter.take("a")
    assert wait is not None and RateLimiter.retry_after(wait) == "1"
    assert limiter.take("b") is None  # another caller, another bucket
    now[0] += 0.5  # one token back at 2 per second
    assert limiter.take("a") is None and limiter.take("a") is not None
    limiter.take("c")  # over max_buckets: the least recently seen bucket goes
    assert len(limiter._buckets) == 2


def test_a_flood_from_many_clients_stays_a_few_records() -> None:
    log = RefusalLog(window_s=60, max_windows=10, clock=lambda: 0.0)
    written = []
    for i in range(10_000):
        written += log.note(Refusal(f"10.0.{i // 256}.{i % 256}", None, None, 401, "/api/search"))
    assert log.due() == []  # the window is not over yet
    written += log.due(everything=True)
    assert len(written) <= 2 * (10 + 1)
    assert sum(e.query["count"] for e in written) == 10_000
    assert sum(e.query["count"] for e in written if e.query["client"] == "*") == 10_000 - 10


def test_a_missing_right_is_access_denied_answered_403() -> None:
    import asyncio

    from pipeline.api.auth import Permission, Principal, Role
    from pipeline.api.deps import require
    from pipeline.api.errors import install_error_handlers
    from pipeline.errors import AccessDenied

    with pytest.raises(AccessDenied, match="the analyst role may not metrics"):
        require(Permission.METRICS)(Principal("ann", Role.ANALYST))
    app = FastAPI()
    install_error_handlers(app)
    handler = app.exception_handlers[AccessDenied]
    response = asyncio.run(handler(None, AccessDenied("the analyst role may not metrics")))  # type: ignore[arg-type]
    assert response.status_code == 403
    assert response.body == b'{"detail":"the analyst role may not metrics"}'


def test_search_limits_are_declared_once_for_the_get_query_the_post_body_and_the_cli() -> None:
    from elasticsearch import Elasticsearch

    from pipeline.api.app import create_app
    from pipeline.api.request import SearchRequest, size_range
    from pipeline.settings import Settings

    es = Elasticsearch("http://127.0.0.1:9")  # never called: the schema needs no cluster
    schema = create_app(Settings(), es).openapi()
    get = {p["name"]: p["schema"] for p in schema["paths"]["/api/search"]["get"]["parameters"]}
    body = SearchRequest.model_json_schema()["properties"]
    for name in ("q", "size", "cursor"):
        same = {k: v for k, v in body[name].items() if k != "default"}
        assert {k: v for k, v in get[name].items() if k != "default"} == same, name
    assert (get["size"]["minimum"], get["size"]["maximum"]) == size_range()
    es.close()
