"""Run analyst requests against Elasticsearch and audit them: shared by the API and the CLI.

Each call builds its body for the caller's visibility, runs it, shapes the answer through
the allow-list models, writes the audit record, and only then returns. A failed audit
write raises, so no result ever leaves without its record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import elasticsearch

from pipeline.api import linking, queries
from pipeline.api.audit import Action, AuditTrail
from pipeline.api.auth import Principal
from pipeline.api.models import (
    Bucket,
    EntitySeen,
    EntityView,
    IncidentView,
    ReportOut,
    ReportView,
    SearchPage,
    SimilarView,
)
from pipeline.enrich.dedup.keys import report_key
from pipeline.enrich.incidents import state as incident_state
from pipeline.enrich.mentions import EntityType
from pipeline.errors import PipelineError, RequestRejected, map_es_errors
from pipeline.settings import COMMON_SELECTOR_CLUSTERS

__all__ = ["QueryRejectedError", "SearchService"]


class QueryRejectedError(RequestRejected):
    """Elasticsearch refused a request as malformed (e.g. a tampered cursor)."""


def _buckets(agg: dict[str, Any] | None) -> list[Bucket]:
    if not agg:
        return []
    return [Bucket(value=str(b["key"]), count=int(b["doc_count"])) for b in agg.get("buckets", [])]


def _facets(aggs: dict[str, Any]) -> dict[str, list[Bucket]]:
    facets: dict[str, list[Bucket]] = {}
    for name in ("source", "region"):
        facets[name] = _buckets(aggs.get(name))
    for entity_type in EntityType:
        buckets = _buckets(aggs.get(f"entity.{entity_type.value}"))
        if buckets:
            facets[f"entities.{entity_type.value}"] = buckets
    return facets


_EMPTY: dict[str, Any] = {"hits": {"total": {"value": 0}, "hits": []}, "aggregations": {}}


@contextmanager
def _translate(action: str) -> Iterator[None]:
    """Our error types for Elasticsearch refusals; a missing alias reads as an empty index."""
    try:
        with map_es_errors(action, expect=(400,)):
            yield
    except elasticsearch.BadRequestError as exc:
        # Never pass Elasticsearch's reason on: it can quote the request or a document.
        raise QueryRejectedError(f"{action}: the request was not accepted") from exc
    except elasticsearch.NotFoundError as exc:
        raise _MissingIndexError(action) from exc


class _MissingIndexError(PipelineError):
    """The alias does not exist (yet): treated as no results."""


class SearchService:
    """Searches, views and exports over one alias, audited in one trail.

    `common_clusters`: a selector whose reports fall in this many distinct clusters is common
    (`PIPELINE_COMMON_SELECTOR_CLUSTERS`): marked so in its entity view, and it links no reports.
    """

    def __init__(
        self,
        es: elasticsearch.Elasticsearch,
        alias: str,
        trail: AuditTrail,
        *,
        common_clusters: int = COMMON_SELECTOR_CLUSTERS,
        embed: Callable[[Sequence[str]], Any] | None = None,
    ) -> None:
        self.es = es
        self._embed = embed
        self.alias = alias
        self.trail = trail
        self.common_clusters = common_clusters

    def embed(self, texts: Sequence[str]) -> Any:
        """Sentence vectors of `texts` (the workers' model, loaded on first use)."""
        if self._embed is None:
            from pipeline.enrich.embed import Embedder

            self._embed = Embedder.load().embed
        return self._embed(texts)

    def _search(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            with _translate(action):
                return dict(self.es.search(index=self.alias, body=body))
        except _MissingIndexError:
            return _EMPTY

    def search(
        self,
        principal: Principal,
        params: queries.SearchParams,
        justification: str,
        *,
        action: Action = Action.SEARCH,
        channel: str = "api",
    ) -> SearchPage:
        """One page of results (raises BadCursorError, QueryRejectedError, SearchUnavailable)."""
        if params.mode is queries.Mode.SEMANTIC and params.q.strip():
            return self._semantic(principal, params, justification, action, channel)
        body = queries.search_body(params, principal.sees_restricted)
        response = self._search("search reports", body)
        partial = False
        relax = action is Action.SEARCH and queries.can_relax(params.q)
        if relax and not response["hits"]["total"]["value"]:
            # No report has every word: list the ones that have most of them, and say so (an
            # export holds only reports with every word).
            relaxed = queries.search_body(params, principal.sees_restricted, relaxed=True)
            answer = self._search("search reports with most words", relaxed)
            if answer["hits"]["total"]["value"]:
                body, response, partial = relaxed, answer, True
        hits = response["hits"]["hits"]
        results = [ReportOut.from_hit(h, sees_restricted=principal.sees_restricted) for h in hits]
        next_cursor = None
        if hits and len(hits) == params.size:
            if params.collapse:
                start = int(body.get("from", 0)) + len(hits)
                if start < queries.MAX_WINDOW:
                    next_cursor = queries.encode_cursor(params.sort, start=start)
            else:
                next_cursor = queries.encode_cursor(params.sort, after=list(hits[-1]["sort"]))
        aggs = response.get("aggregations") or {}
        page = SearchPage(
            total=int(response["hits"]["total"]["value"]),
            clusters=int(aggs["clusters"]["value"]) if "clusters" in aggs else None,
            results=results,
            facets=_facets(aggs) if params.facets else {},
            next_cursor=next_cursor,
            partial_match=partial,
        )
        ids = [r.id for r in results]
        query = params.describe() | ({"partial_match": True} if partial else {})
        self.trail.record(
            principal, action, query, ids, justification=justification, channel=channel
        )
        return page

    def report(
        self, principal: Principal, report_id: str, justification: str, *, channel: str = "api"
    ) -> ReportView | None:
        """One report with its cluster members and linked reports; None if there is none."""
        sees = principal.sees_restricted
        response = self._search("view a report", queries.report_body(report_id, sees))
        hits = response["hits"]["hits"]
        view: ReportView | None = None
        if hits:
            hit = hits[0]
            report = ReportOut.from_hit(hit, sees_restricted=sees)
            cluster: list[ReportOut] = []
            cluster_size = 1
            if report.cluster_id:
                members = self._search(
                    "list cluster members",
                    queries.cluster_members_body(report.cluster_id, report.id, sees),
                )
                cluster = [
                    ReportOut.from_hit(h, sees_restricted=sees) for h in members["hits"]["hits"]
                ]
                cluster_size = 1 + int(members["hits"]["total"]["value"])
            common, found = self._links(hit.get("_source") or {})
            linked = [
                ReportOut.from_source(link.id, dict(link.summary), sees_restricted=sees).model_copy(
                    update={"shared": link.shared}
                )
                for link in found
                # Members of its own cluster are listed as such, not again as links.
                if not report.cluster_id or link.summary.get("cluster_id") != report.cluster_id
            ]
            view = ReportView(
                report=report,
                cluster_size=cluster_size,
                cluster=cluster,
                linked=linked,
                common_selectors=linking.by_type(common),
            )
        ids = [] if view is None else [view.report.id, *(r.id for r in view.cluster + view.linked)]
        self.trail.record(
            principal,
            Action.VIEW_REPORT,
            {"id": report_id},
            ids,
            justification=justification,
            channel=channel,
        )
        return view

    def _links(
        self, source: dict[str, Any]
    ) -> tuple[frozenset[linking.Selector], list[linking.LinkedReport]]:
        """The report's common selectors, and the reports it shares one of the others with.

        Linked reports come back as summaries (never text or restricted fields).
        """
        try:
            with _translate("find linked reports"):
                common = linking.common_selectors(
                    self.es, self.alias, linking.strong_selectors(source), self.common_clusters
                )
                return common, linking.linked_reports(self.es, self.alias, source, skip=common)
        except _MissingIndexError:
            return frozenset(), []

    def entity(
        self,
        principal: Principal,
        entity_type: EntityType,
        value: str,
        justification: str,
        *,
        channel: str = "api",
    ) -> EntityView:
        """One selector: its reports, sources, regions, first and last seen, and whether it is
        common."""
        sees = principal.sees_restricted
        normal = queries.normalise_entity_value(entity_type, value)
        try:
            with _translate("view an entity"):
                found = linking.entity_view(
                    self.es, self.alias, entity_type, normal, min_clusters=self.common_clusters
                )
        except _MissingIndexError:
            found = linking.EntityHits(type=entity_type.value, value=normal, total=0)
        view = EntityView(
            type=found.type,
            value=found.value,
            total=found.total,
            first_seen=found.first_seen,
            last_seen=found.last_seen,
            clusters=found.clusters,
            common=found.common,
            sources=[Bucket(value=k, count=v) for k, v in found.sources.items()],
            reports=[
                ReportOut.from_source(str(doc.get("id")), doc, sees_restricted=sees)
                for doc in found.reports
            ],
        )
        query = {"type": entity_type.value, "value": view.value}
        ids = [r.id for r in view.reports]
        self.trail.record(
            principal, Action.VIEW_ENTITY, query, ids, justification=justification, channel=channel
        )
        return view

    def incident(
        self, principal: Principal, incident_id: str, justification: str, *, channel: str = "api"
    ) -> IncidentView:
        """One incident: its reports oldest first, sources, regions, merged entities."""
        sees = principal.sees_restricted
        response = self._search("view an incident", queries.incident_body(incident_id, sees))
        aggs = response.get("aggregations") or {}
        entities = {
            kind.value: [
                EntitySeen(
                    value=str(b["key"]),
                    count=int(b["doc_count"]),
                    first_seen=b["first_seen"].get("value_as_string"),
                    last_seen=b["last_seen"].get("value_as_string"),
                )
                for b in (aggs.get(f"entity_{kind.value}") or {}).get("buckets", [])
            ]
            for kind in EntityType
        }
        view = IncidentView(
            id=incident_id,
            total=int(response["hits"]["total"]["value"]),
            clusters=int((aggs.get("clusters") or {}).get("value", 0)),
            first_seen=(aggs.get("first_seen") or {}).get("value_as_string"),
            last_seen=(aggs.get("last_seen") or {}).get("value_as_string"),
            sources=_buckets(aggs.get("sources")),
            regions=_buckets(aggs.get("regions")),
            entities={kind: seen for kind, seen in entities.items() if seen},
            reports=[ReportOut.from_hit(h, sees_restricted=sees) for h in response["hits"]["hits"]],
        )
        self.trail.record(
            principal,
            Action.VIEW_INCIDENT,
            {"id": incident_id},
            [r.id for r in view.reports],
            justification=justification,
            channel=channel,
        )
        return view

    def _nearest(
        self, vector: list[float], k: int, params: queries.SearchParams | None, sees: bool
    ) -> list[ReportOut]:
        """The reports whose vectors are nearest `vector`, most alike first, that pass the
        rest of `params`'s filters; each with its `likeness` (the cosine)."""
        try:
            with _translate("find reports by meaning"):
                found = self.es.search(
                    index=incident_state.partitions(self.alias),
                    body=queries.knn_state_body(vector, k, params),
                    allow_no_indices=True,
                )["hits"]["hits"]
        except _MissingIndexError:
            return []
        likeness = {
            str(h["_source"].get("doc")): 2 * float(h["_score"]) - 1
            for h in found
            if h["_source"].get("doc")
        }
        if not likeness:
            return []
        hits = self._search(
            "read reports by meaning", queries.ids_body(list(likeness), params, sees)
        )["hits"]["hits"]
        results = [
            ReportOut.from_hit(h, sees_restricted=sees).model_copy(
                update={"likeness": round(likeness[h["_id"]], 4)}
            )
            for h in hits
        ]
        return sorted(results, key=lambda r: -(r.likeness or 0.0))

    def _semantic(
        self,
        principal: Principal,
        params: queries.SearchParams,
        justification: str,
        action: Action,
        channel: str,
    ) -> SearchPage:
        """A semantic page: the reports nearest the query in meaning (one page, no facets)."""
        vector = [float(x) for x in self.embed([params.q])[0]]
        results = self._nearest(vector, params.size, params, principal.sees_restricted)
        page = SearchPage(total=len(results), results=results)
        self.trail.record(
            principal,
            action,
            params.describe(),
            [r.id for r in results],
            justification=justification,
            channel=channel,
        )
        return page

    def similar(
        self,
        principal: Principal,
        report_id: str,
        justification: str,
        *,
        size: int = 10,
        channel: str = "api",
    ) -> SimilarView | None:
        """More like this: the reports told most like `report_id`; None if there is none."""
        sees = principal.sees_restricted
        hits = self._search("view a report", queries.report_body(report_id, sees))["hits"]["hits"]
        view: SimilarView | None = None
        if hits:
            source = hits[0]["_source"]
            vector = self._vector_of(
                report_key(str(source.get("source")), str(source.get("source_id"))),
                source.get("cluster_id"),
            )
            results: list[ReportOut] = []
            if vector is not None:
                near = self._nearest(vector, size + 1, None, sees)
                results = [r for r in near if r.id != report_id][:size]
            view = SimilarView(report=report_id, results=results)
        self.trail.record(
            principal,
            Action.SIMILAR,
            {"id": report_id},
            [] if view is None else [r.id for r in view.results],
            justification=justification,
            channel=channel,
        )
        return view

    def _vector_of(self, key: str, cluster: str | None) -> list[float] | None:
        """A report's stored vector, or its cluster's first report's (a near-duplicate has
        none of its own); None before incidents were assigned to it."""
        try:
            with _translate("read a report's vector"):
                stored = incident_state.fetch(
                    self.es, self.alias, [key, *([cluster] if cluster else [])]
                )
        except _MissingIndexError:
            return None
        for wanted in (key, cluster):
            vector = stored.get(wanted, {}).get("vec") if wanted else None
            if vector:
                return [float(x) for x in vector]
        return None
