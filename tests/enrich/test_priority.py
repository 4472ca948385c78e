"""A report's derived priority: points per reason, from its source and its selectors."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipeline.enrich.mentions import EntityType
from pipeline.enrich.priority import MAX_PRIORITY, POINTS, Priority, report_priority
from pipeline.ingest.sources import Source


def test_a_plain_public_report_has_no_priority() -> None:
    assert report_priority("public_report", {"person": ["Ali Khan"], "location": ["Leeds"]}) == (
        Priority(score=0, reasons=())
    )


def test_a_proscribed_organisation_outranks_a_hotline_call_with_a_phone() -> None:
    named = report_priority("public_report", {"proscribed_org": ["National Action"]})
    called = report_priority("hotline_call", {"phone": ["+447700900123"]})
    assert named == Priority(score=4, reasons=("proscribed_org",))
    assert called == Priority(score=3, reasons=("hotline_call", "phone"))
    assert named.score > called.score


def test_sources_count_only_for_themselves() -> None:
    assert report_priority("radicalisation_referral", {}).reasons == ("radicalisation_referral",)
    assert report_priority("online_referral", {"url": ["https://example.org/x"]}).score == 0
    # an entity type named like a source (none is) could never add its points twice
    assert report_priority("public_report", {"hotline_call": ["x"]}).score == 0


def test_selectors_count_once_whatever_how_many_values() -> None:
    one = report_priority("public_report", {"vehicle": ["AB12CDE"]})
    three = report_priority("public_report", {"vehicle": ["AB12CDE", "XY34ZZZ", "CD56EFG"]})
    assert one == three == Priority(score=2, reasons=("vehicle",))
    assert report_priority("public_report", {"vehicle": []}).score == 0


def test_everything_at_once_is_the_maximum() -> None:
    entities = {t.value: ["x"] for t in EntityType}
    best = max(
        (report_priority(source.value, entities) for source in Source), key=lambda p: p.score
    )
    assert best.score == MAX_PRIORITY == 11


@given(
    source=st.sampled_from([s.value for s in Source]),
    kinds=st.sets(st.sampled_from([t.value for t in EntityType])),
)
def test_the_score_is_the_sum_of_its_reasons_and_fits_a_byte(source: str, kinds: set[str]) -> None:
    priority = report_priority(source, {kind: ["v"] for kind in kinds})
    assert priority.score == sum(POINTS[r] for r in priority.reasons)
    assert 0 <= priority.score <= MAX_PRIORITY <= 127
    assert list(priority.reasons) == [r for r in POINTS if r in priority.reasons]
