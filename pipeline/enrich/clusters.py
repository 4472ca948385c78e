"""A report's place in its cluster of same or near-same reports (contract §2 `cluster_id`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ClusterAssignment:
    """`duplicate` is False only for the report that opened the cluster."""

    cluster_id: str
    duplicate: bool
