"""Common selectors on the real node: told from the data, marked in the entity view, no links.

The corpus: a hotline's own number in 54 reports of 54 distinct clusters (common at the
default threshold of 50), a suspect's number in two reports (rare), one story's number in 60
reports of only 3 clusters (many reports, not common), and a caller's own number kept under
`restricted` in 52 reports but written publicly in one (counted once: restricted values are
never counted).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from api_support import Api, Corpus, Sample, index_samples
from elasticsearch import Elasticsearch

from pipeline.api.app import create_app
from pipeline.api.audit import AuditTrail, audit_index
from pipeline.api.auth import Principal, Role
from pipeline.api.service import SearchService
from pipeline.enrich.mentions import EntityType
from pipeline.ingest.sources import Source
from pipeline.settings import Settings

pytestmark = pytest.mark.integration

HOTLINE = ("0800 789 321", "+44800789321")
RARE = ("07700 900456", "+447700900456")
STORY = ("07700 900789", "+447700900789")
CALLER = ("07700 900999", "+447700900999")
START = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
HOT_FILLERS = 52
STORY_REPORTS = 60


def _sample(
    name: str,
    source: Source,
    text: str,
    phones: tuple[tuple[str, str], ...],
    cluster: str,
    minute: int,
    *,
    duplicate: bool = False,
    restricted: dict[str, object] | None = None,
) -> Sample:
    return Sample(
        name=name,
        source=source,
        source_id=name,
        when=START + timedelta(minutes=minute),
        text=text,
        mentions=tuple((EntityType.PHONE, surface, value) for surface, value in phones),
        region=None,
        cluster=cluster,
        duplicate=duplicate,
        restricted=restricted,
    )


def common_samples() -> tuple[Sample, ...]:
    both_a = _sample(
        "both-a",
        Source.PUBLIC_REPORT,
        "Man outside the depot gave me 07700 900456 and said to ring the hotline 0800 789 321.",
        (RARE, HOTLINE),
        "c-both-a",
        0,
    )
    both_b = _sample(
        "both-b",
        Source.HOTLINE_CALL,
        "Caller rang 0800 789 321 about a van; the driver's number is 07700 900456, "
        "and his friend's 07700 900999.",
        (HOTLINE, RARE, CALLER),
        "c-both-b",
        1,
    )
    hot = [
        _sample(
            f"hot-{i}",
            Source.HOTLINE_CALL,
            f"Caller {i} rang the hotline 0800 789 321 about an unrelated matter number {i}.",
            (HOTLINE,),
            f"c-hot-{i}",
            10 + i,
            # the caller's own number, never in entities.*: it must never count as common
            restricted={"caller": {"name": "Ottilie Quenby", "phone": CALLER[1]}},
        )
        for i in range(HOT_FILLERS)
    ]
    story = [
        _sample(
            f"story-{i}",
            Source.PUBLIC_REPORT,
            f"Drone over the stadium again ({i}); the operator's phone is 07700 900789.",
            (STORY,),
            f"c-story-{i % 3}",
            100 + i,
            duplicate=i >= 3,
        )
        for i in range(STORY_REPORTS)
    ]
    return (both_a, both_b, *hot, *story)


@pytest.fixture
def corpus(es: Elasticsearch, api_settings: Settings) -> Corpus:
    """This module's corpus in place of the shared one (the `app` and `api` fixtures use it)."""
    return Corpus(api_settings, index_samples(es, api_settings, common_samples()))


def linked_pairs(view: dict[str, object]) -> list[tuple[str, dict[str, list[str]]]]:
    return [(r["id"], r["shared"]) for r in view["linked"]]  # type: ignore[attr-defined]


def test_the_entity_view_marks_a_selector_in_many_clusters_common(api: Api) -> None:
    hotline = api.get("/api/entities/phone", params={"value": HOTLINE[0]}).json()
    assert (hotline["value"], hotline["total"], hotline["clusters"]) == (HOTLINE[1], 54, 54)
    assert hotline["common"] is True

    rare = api.get("/api/entities/phone", params={"value": RARE[0]}).json()
    assert (rare["total"], rare["clusters"], rare["common"]) == (2, 2, False)
    # Sixty reports of one story are one story's worth of clusters, not a common selector.
    story = api.get("/api/entities/phone", params={"value": STORY[1]}).json()
    assert (story["total"], story["clusters"], story["common"]) == (STORY_REPORTS, 3, False)
    # Under `restricted` in 52 reports, in entities.* in one: only the one is counted.
    caller = api.get("/api/entities/phone", params={"value": CALLER[1]}, role="restricted").json()
    assert (caller["total"], caller["clusters"], caller["common"]) == (1, 1, False)
    unknown = api.get("/api/entities/phone", params={"value": "07700 900000"}).json()
    assert (unknown["total"], unknown["clusters"], unknown["common"]) == (0, 0, False)


@pytest.mark.parametrize("role", ["analyst", "restricted"])
def test_a_report_links_by_its_rare_selector_only(api: Api, corpus: Corpus, role: str) -> None:
    ids = corpus.ids
    view = api.get(f"/api/reports/{ids['both-a']}", role=role).json()
    assert linked_pairs(view) == [(ids["both-b"], {"phone": [RARE[1]]})]
    assert view["common_selectors"] == {"phone": [HOTLINE[1]]}

    other = api.get(f"/api/reports/{ids['both-b']}", role=role).json()
    assert linked_pairs(other) == [(ids["both-a"], {"phone": [RARE[1]]})]
    assert other["common_selectors"] == {"phone": [HOTLINE[1]]}

    # A report whose only selector is common links nothing and says why.
    lone = api.get(f"/api/reports/{ids['hot-0']}", role=role)
    assert (lone.json()["linked"], lone.json()["common_selectors"]) == ([], {"phone": [HOTLINE[1]]})
    assert (CALLER[1] in lone.text) is (role == "restricted")


def test_a_report_without_common_selectors_says_none(api: Api, corpus: Corpus) -> None:
    view = api.get(f"/api/reports/{corpus.ids['story-0']}").json()
    assert view["common_selectors"] == {}
    assert view["linked"], "its story's other clusters share its number"
    assert {r["cluster_id"] for r in view["linked"]} <= {"c-story-1", "c-story-2"}


def _service(es: Elasticsearch, settings: Settings) -> SearchService:
    """The service as the API builds it from `settings` (README, "Common selectors")."""
    trail = AuditTrail(es, audit_index(settings))
    return SearchService(
        es, settings.index_alias, trail, common_clusters=settings.common_selector_clusters
    )


def test_the_threshold_setting_changes_the_outcome(es: Elasticsearch, corpus: Corpus) -> None:
    analyst = Principal("alice", Role.ANALYST)
    ids = corpus.ids

    low = _service(es, corpus.settings.model_copy(update={"common_selector_clusters": 2}))
    view = low.report(analyst, ids["both-a"], "case 9")
    assert view is not None
    assert view.linked == []
    assert view.common_selectors == {"phone": [RARE[1], HOTLINE[1]]}
    rare = low.entity(analyst, EntityType.PHONE, RARE[0], "case 9")
    assert (rare.clusters, rare.common) == (2, True)
    story = low.entity(analyst, EntityType.PHONE, STORY[0], "case 9")
    assert (story.clusters, story.common) == (3, True)

    high = _service(es, corpus.settings.model_copy(update={"common_selector_clusters": 55}))
    view = high.report(analyst, ids["both-a"], "case 9")
    assert view is not None and view.common_selectors == {}
    linked = {r.id: r.shared for r in view.linked}
    assert linked[ids["both-b"]] == {"phone": [RARE[1], HOTLINE[1]]}
    # the rest of the page of links fills with the hotline's latest other callers
    assert len(linked) == 20 and linked[ids[f"hot-{HOT_FILLERS - 1}"]] == {"phone": [HOTLINE[1]]}
    hotline = high.entity(analyst, EntityType.PHONE, HOTLINE[0], "case 9")
    assert (hotline.clusters, hotline.common) == (54, False)

    # At exactly its count of clusters a selector is common.
    edge = _service(es, corpus.settings.model_copy(update={"common_selector_clusters": 54}))
    assert edge.entity(analyst, EntityType.PHONE, HOTLINE[0], "case 9").common is True


def test_the_api_reads_the_threshold_from_its_settings(es: Elasticsearch, corpus: Corpus) -> None:
    """`create_app` hands PIPELINE_COMMON_SELECTOR_CLUSTERS to the views it serves."""
    low = corpus.settings.model_copy(update={"common_selector_clusters": 2})
    entity = Api(create_app(low, es)).get("/api/entities/phone", params={"value": RARE[0]})
    assert entity.status_code == 200
    assert (entity.json()["clusters"], entity.json()["common"]) == (2, True)
