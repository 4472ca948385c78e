"""What erasing one report does to its cluster's dedup state (pure decisions)."""

from __future__ import annotations

from pipeline.enrich.clusters import ClusterAssignment
from pipeline.enrich.dedup.keys import ReportKeys
from pipeline.enrich.dedup.ledger import Assigned, Claim
from pipeline.enrich.erasure.clusters import repair_cluster


def _keys(report: str, *claims: str) -> ReportKeys:
    return ReportKeys(report=report, exact=claims[0], url=None, bands=claims[1:], signature=None)


def _answer(cluster: str, duplicate: bool) -> Assigned:
    return Assigned(ClusterAssignment(cluster_id=cluster, duplicate=duplicate), None)


def test_erasing_the_opener_promotes_the_earliest_member_and_hands_over_shared_claims() -> None:
    erased = _keys("A", "fp:1", "b0:x", "b1:y")
    claims = {k: Claim("A", "A") for k in ("fp:1", "b0:x", "b1:y")}
    members = [_keys("B", "fp:1", "b0:x", "b1:z"), _keys("C", "fp:2", "b1:y")]
    repair = repair_cluster("A", _answer("A", False), erased, claims, members)
    assert repair.promoted == "B"
    # fp:1 and b0:x go to B, the earliest member holding them; b1:y to C
    assert repair.claims == {
        "fp:1": Claim("A", "B"),
        "b0:x": Claim("A", "B"),
        "b1:y": Claim("A", "C"),
    }
    assert repair.deletes == {"r:A"}


def test_erasing_a_duplicate_deletes_only_its_own_claims_and_answer() -> None:
    erased = _keys("B", "fp:2", "b0:q")
    claims = {"fp:2": Claim("A", "B"), "b0:q": Claim("A", "A")}  # b0:q was A's before
    repair = repair_cluster("B", _answer("A", True), erased, claims, [_keys("A", "fp:1")])
    assert repair.promoted is None
    assert repair.claims == {}
    assert repair.deletes == {"r:B", "fp:2"}


def test_a_lone_report_leaves_nothing_behind() -> None:
    erased = _keys("A", "fp:1")
    repair = repair_cluster("A", _answer("A", False), erased, {"fp:1": Claim("A", "A")}, [])
    assert (repair.promoted, dict(repair.claims), repair.deletes) == (None, {}, {"r:A", "fp:1"})


def test_without_its_narrative_only_the_answer_goes() -> None:
    repair = repair_cluster("A", _answer("A", False), None, {}, [_keys("B", "fp:1")])
    assert repair.deletes == {"r:A"}
    assert repair.promoted == "B"
