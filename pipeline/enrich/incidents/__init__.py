"""Incidents: reports that tell the same event in different words, grouped at ingest.

`traces` (what a report brings: time, places, selectors), `decide` (the pure rule that joins a
report to its neighbours' incident or opens one), `state` (the vectors and answers shared by
every worker in Elasticsearch), `assigner` (a batch under the state's lease), `step` (the
batch path's step), `corrections` (analysts' merges and moves), `evaluate` (the labelled set).
"""

from pipeline.enrich.incidents.decide import IncidentAssignment, IncidentParams

__all__ = ["IncidentAssignment", "IncidentParams"]
