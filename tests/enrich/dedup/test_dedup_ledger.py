"""Cluster decisions in memory: the logic the Elasticsearch-backed deduplicator shares."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pipeline.enrich.dedup.keys import DedupParams, report_keys
from pipeline.enrich.dedup.ledger import Ledger
from pipeline.ingest.report import Report
from pipeline.ingest.sources import Source

MakeReport = Callable[..., Report]

PARAMS = DedupParams()
VAN = (
    "I want to report a white Ford Transit van, registration YX19 KLM, that has been parked "
    "outside the mosque on Harehills Lane in Leeds for three nights. Two men keep carrying "
    "heavy bags from the van into the lock-up behind the chip shop at about 2am."
)
OTHER_VAN = (
    "I want to report a white Ford Transit van that has been parked outside the community "
    "centre on Stapleton Road in Bristol for three nights. Two men keep loading boxes from a "
    "storage unit into the van late in the evening and they look nervous."
)
STOCK = "Video glorifying a terrorist attack, please review and remove."


@pytest.fixture
def ledger() -> Ledger:
    return Ledger(PARAMS.threshold)


@pytest.mark.parametrize(
    "variant",
    [
        VAN.replace("Harehills", "Haerhills"),
        "Hello, " + VAN,
        VAN + " Please look into this urgently, I am worried about it.",
        VAN.upper(),
        VAN.replace(",", "").replace("  ", " "),
    ],
    ids=["typo", "greeting", "added-sentence", "upper-case", "punctuation"],
)
def test_small_edits_join_the_first_reports_cluster(
    ledger: Ledger, make_report: MakeReport, variant: str
) -> None:
    first = ledger.assign(report_keys(make_report(VAN), PARAMS))
    second = ledger.assign(report_keys(make_report(variant, source=Source.HOTLINE_CALL), PARAMS))
    assert first.duplicate is False
    assert second.duplicate is True
    assert second.cluster_id == first.cluster_id


def test_same_stock_phrases_different_incident_opens_its_own_cluster(
    ledger: Ledger, make_report: MakeReport
) -> None:
    first = ledger.assign(report_keys(make_report(VAN), PARAMS))
    other = ledger.assign(report_keys(make_report(OTHER_VAN), PARAMS))
    assert other.duplicate is False
    assert other.cluster_id != first.cluster_id


def test_every_later_member_is_a_duplicate_of_one_cluster(
    ledger: Ledger, make_report: MakeReport
) -> None:
    texts = [VAN, "Hi. " + VAN, VAN.lower(), VAN + " Thanks."]
    answers = [ledger.assign(report_keys(make_report(t), PARAMS)) for t in texts]
    assert len({a.cluster_id for a in answers}) == 1
    assert [a.duplicate for a in answers] == [False, True, True, True]


def test_the_same_report_again_gets_the_same_answer(
    ledger: Ledger, make_report: MakeReport
) -> None:
    first = ledger.assign(report_keys(make_report(VAN, "a-1"), PARAMS))
    again = ledger.assign(report_keys(make_report(VAN, "a-1"), PARAMS))
    assert again == first
    assert again.duplicate is False


def test_referrals_of_one_video_under_different_links_share_a_cluster(
    ledger: Ledger, make_report: MakeReport
) -> None:
    links = [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ&utm_source=twitter#t=30",
        "HTTPS://YouTube.com/watch?v=dQw4w9WgXcQ",
    ]
    answers = [
        ledger.assign(
            report_keys(
                make_report(f"seen this {n} {link}", source=Source.ONLINE_REFERRAL, url=link),
                PARAMS,
            )
        )
        for n, link in enumerate(links)
    ]
    assert len({a.cluster_id for a in answers}) == 1
    assert [a.duplicate for a in answers] == [False, True, True, True]


def test_referrals_with_the_same_words_but_different_videos_stay_apart(
    ledger: Ledger, make_report: MakeReport
) -> None:
    answers = [
        ledger.assign(
            report_keys(
                make_report(f"{STOCK} {link}", source=Source.ONLINE_REFERRAL, url=link), PARAMS
            )
        )
        for link in ("https://youtu.be/aaaaaaaaaaa", "https://youtu.be/bbbbbbbbbbb")
    ]
    assert answers[0].cluster_id != answers[1].cluster_id
    assert not any(a.duplicate for a in answers)


def test_short_texts_cluster_only_on_exact_content(ledger: Ledger, make_report: MakeReport) -> None:
    first = ledger.assign(report_keys(make_report("Suspicious van outside school"), PARAMS))
    exact = ledger.assign(report_keys(make_report("suspicious van, outside school!"), PARAMS))
    near = ledger.assign(report_keys(make_report("Suspicious van outside schools"), PARAMS))
    assert exact.cluster_id == first.cluster_id
    assert near.cluster_id != first.cluster_id


def test_a_report_near_two_clusters_joins_the_most_similar(
    ledger: Ledger, make_report: MakeReport
) -> None:
    base = VAN + " " + OTHER_VAN
    van = ledger.assign(report_keys(make_report(VAN + " It has been there all week."), PARAMS))
    both = ledger.assign(report_keys(make_report(base), PARAMS))
    closer = ledger.assign(report_keys(make_report(base + " Thanks."), PARAMS))
    assert both.cluster_id != van.cluster_id  # half of it matches: below the threshold
    assert closer.cluster_id == both.cluster_id


def test_params_reject_more_band_rows_than_permutations() -> None:
    with pytest.raises(ValueError, match="exceeds num_perm"):
        DedupParams(num_perm=32, bands=16, rows=4)


def test_a_report_whose_answer_was_lost_is_not_its_own_duplicate(make_report: MakeReport) -> None:
    # The state a write stopped between claims and answers leaves: every claim, no answer.
    opener = report_keys(make_report(VAN, "o-1"), PARAMS)
    joiner = report_keys(make_report("Hello, " + VAN, "o-2"), PARAMS)
    before = Ledger(PARAMS.threshold)
    answers = [before.assign(keys) for keys in (opener, joiner)]
    for only_the_joiners in (False, True):
        after = Ledger(PARAMS.threshold)
        for key, claim in before.new_claims.items():
            if not only_the_joiners or claim.report == joiner.report:
                after.load_claim(key, claim)
        assert [after.assign(keys) for keys in (opener, joiner)] == answers
        assert [a.duplicate for a in answers] == [False, True]
