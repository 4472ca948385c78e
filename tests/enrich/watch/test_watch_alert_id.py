"""Alert ids: one per (entry, cluster), whatever is replayed, redelivered or repeated."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipeline.enrich.exact import extract_exact
from pipeline.enrich.watch import Watchlist, alert_id
from tests.enrich.watch.factory import NOW, entry

_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True)
_clusters = st.text(min_size=1, max_size=40)


def test_the_alert_id_is_stable_across_runs_and_releases() -> None:
    # Pinned: a changed id would raise every open alert a second time after an upgrade.
    assert alert_id("entry-1", "c0ffee") == "425069c3662f167db7a501d17115da0f"


@given(first=st.tuples(_ids, _clusters), second=st.tuples(_ids, _clusters))
def test_distinct_pairs_get_distinct_alert_ids(
    first: tuple[str, str], second: tuple[str, str]
) -> None:
    assert (alert_id(*first) == alert_id(*second)) == (first == second)


def test_pairs_that_concatenate_alike_get_distinct_ids() -> None:
    assert alert_id("ab", "c") != alert_id("a", "bc")


def test_fifty_reports_of_one_cluster_and_their_redeliveries_make_one_alert_per_entry() -> None:
    watchlist = Watchlist(
        [entry("phone:07700 900123", id="phone"), entry("vehicle:AB12CDE", id="plate")]
    )
    reports = [f"Report {i}: 07700 900123 seen with AB12 CDE." for i in range(50)]
    alerts = {
        alert_id(m.entry.id, "cluster-7")
        for text in reports + reports  # every report delivered twice
        for m in watchlist.match(extract_exact(text), NOW)
    }
    assert alerts == {alert_id("phone", "cluster-7"), alert_id("plate", "cluster-7")}
    assert alert_id("phone", "cluster-8") not in alerts
