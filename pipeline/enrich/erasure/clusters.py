"""What erasing one report changes in the dedup state: pure, decided over plain data.

The erased report's answer (`r:<report>`) goes. Each key it claimed goes too, unless another
member of its cluster has the same key: then that member holds the claim, so a later report
like the remaining ones still joins their cluster. When the erased report opened its cluster
(it was the one with `duplicate: false`), the earliest remaining member becomes the first
(`duplicate: false`); the cluster keeps its id, an opaque hash, so every other member's
`cluster_id` and every alert of the cluster stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.enrich.dedup.keys import ReportKeys
from pipeline.enrich.dedup.ledger import Assigned, Claim

__all__ = ["ClusterRepair", "repair_cluster"]


@dataclass(frozen=True, slots=True)
class ClusterRepair:
    """State documents to delete and claims to hand over; the member promoted to first."""

    deletes: frozenset[str]
    claims: Mapping[str, Claim] = field(default_factory=dict)
    promoted: str | None = None


def repair_cluster(
    erased: str,
    answer: Assigned | None,
    erased_keys: ReportKeys | None,
    claims: Mapping[str, Claim],
    members: Sequence[ReportKeys],
) -> ClusterRepair:
    """The repair for erasing report `erased` (its dedup identity).

    `answer` is its stored answer, `erased_keys` its keys when its narrative is still known,
    `claims` the stored claims of those keys, `members` the cluster's other reports, earliest
    first.
    """
    deletes = {f"r:{erased}"}
    handed: dict[str, Claim] = {}
    for key in erased_keys.claims() if erased_keys is not None else ():
        claim = claims.get(key)
        if claim is None or claim.report != erased:
            continue
        heir = next((m.report for m in members if key in m.claims()), None)
        if heir is None:
            deletes.add(key)
        else:
            handed[key] = Claim(cluster=claim.cluster, report=heir)
    opened = answer is not None and not answer.assignment.duplicate
    promoted = members[0].report if opened and members else None
    return ClusterRepair(frozenset(deletes), handed, promoted)
