"""Common selectors without a node: the counting body, its answer, links that skip them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline.api.linking import (
    by_type,
    cluster_count_agg,
    clusters_from_response,
    common_query,
    linked_query,
)
from pipeline.api.service import SearchService
from pipeline.enrich.mentions import EntityType
from pipeline.settings import COMMON_SELECTOR_CLUSTERS, Settings

HOTLINE = (EntityType.PHONE, "+44800789321")
RARE = (EntityType.PHONE, "+447700900456")
SITE = (EntityType.URL, "https://news.example.com/")
DOC = {
    "source": "public_report",
    "source_id": "p-1",
    "entities": {
        "phone": [HOTLINE[1], RARE[1]],
        "url": [SITE[1]],
        "person": ["John Smith"],
    },
    "restricted": {"caller": {"phone": "+447700900999"}},
}


def test_one_body_counts_the_clusters_of_every_selector() -> None:
    body = common_query([HOTLINE, RARE, SITE], min_clusters=50)
    assert body is not None
    assert (body["size"], body["track_total_hits"]) == (0, False)
    # Only reports naming one of them are read: the cost follows how common they are.
    [only] = body["query"]["bool"]["filter"]
    assert only["bool"]["minimum_should_match"] == 1
    assert {"term": {"entities.url": SITE[1]}} in only["bool"]["should"]
    selectors = body["aggs"]["selectors"]
    assert selectors["filters"]["filters"] == {
        "phone\x1f+44800789321": {"term": {"entities.phone": "+44800789321"}},
        "phone\x1f+447700900456": {"term": {"entities.phone": "+447700900456"}},
        "url\x1fhttps://news.example.com/": {"term": {"entities.url": SITE[1]}},
    }
    assert selectors["aggs"] == {
        "clusters": {"cardinality": {"field": "cluster_id", "precision_threshold": 100}}
    }


def test_the_body_reads_public_entities_only() -> None:
    body = common_query([HOTLINE], min_clusters=50)
    assert "restricted" not in str(body)
    assert common_query([], min_clusters=50) is None


@pytest.mark.parametrize(
    ("threshold", "precision"), [(2, 100), (50, 100), (300, 600), (10**6, 40_000)]
)
def test_cardinality_is_exact_well_past_the_threshold(threshold: int, precision: int) -> None:
    agg = cluster_count_agg(threshold)["cardinality"]
    assert agg == {"field": "cluster_id", "precision_threshold": precision}


def test_cluster_counts_come_back_per_selector() -> None:
    response = {
        "aggregations": {
            "selectors": {
                "buckets": {
                    "phone\x1f+44800789321": {"doc_count": 900, "clusters": {"value": 412}},
                    "url\x1fhttps://news.example.com/": {"doc_count": 2, "clusters": {"value": 2}},
                }
            }
        }
    }
    assert clusters_from_response(response) == {HOTLINE: 412, SITE: 2}
    assert clusters_from_response({}) == {}


def test_links_leave_out_the_skipped_selectors() -> None:
    body = linked_query(DOC, limit=5, skip=[HOTLINE])
    assert body is not None
    names = [q["term"][next(iter(q["term"]))]["_name"] for q in body["query"]["bool"]["should"]]
    assert names == ["phone\x1f+447700900456", "url\x1fhttps://news.example.com/"]
    assert linked_query(DOC, limit=5, skip=[HOTLINE, RARE, SITE]) is None


def test_selectors_group_by_type_in_order() -> None:
    assert by_type({SITE, RARE, HOTLINE}) == {
        "phone": ["+447700900456", "+44800789321"],
        "url": ["https://news.example.com/"],
    }


def test_the_threshold_setting_and_its_default() -> None:
    assert Settings().common_selector_clusters == COMMON_SELECTOR_CLUSTERS == 50
    settings = Settings.model_validate({"PIPELINE_COMMON_SELECTOR_CLUSTERS": "7"})
    assert settings.common_selector_clusters == 7
    with pytest.raises(ValidationError):
        Settings.model_validate({"PIPELINE_COMMON_SELECTOR_CLUSTERS": "1"})


def test_a_service_built_without_settings_uses_the_default() -> None:
    service = SearchService(None, "reports", None)  # type: ignore[arg-type]
    assert service.common_clusters == COMMON_SELECTOR_CLUSTERS
