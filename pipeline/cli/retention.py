"""`pipeline retention`: reports due for review and the decisions on them (README, "Retention
and review")."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from pipeline.cli.publish import reported_errors
from pipeline.ingest.sources import Source
from pipeline.settings import get_settings

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from pipeline.settings import Settings


@click.group()
def retention() -> None:
    """Review dates under the retention policy: list the reports due for review, record a
    review's decision (retain with a new review date, or delete by erasure)."""


def _audit(
    es: Elasticsearch,
    settings: Settings,
    action: str,
    *,
    justification: str,
    query: dict[str, Any],
    ids: list[str],
) -> None:
    """Write the audit record first: without it, nothing is shown or changed."""
    from pipeline.api.audit import AuditTrail, audit_index
    from pipeline.api.models import AuditEntry

    AuditTrail(es, audit_index(settings)).write(
        AuditEntry(
            timestamp=datetime.now(UTC),
            user=getpass.getuser(),
            role="operator",
            action=action,
            justification=justification,
            query=query,
            ids=ids,
            channel="cli",
        )
    )


@retention.command(short_help="List the reports due for review, oldest due first.")
@click.option(
    "--before",
    metavar="DATE",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Reports whose review date is before DATE (default: tomorrow, so due today or earlier).",
)
@click.option(
    "--source", type=click.Choice([s.value for s in Source]), default=None, help="Only this source."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def due(before: datetime | None, source: str | None, as_json: bool) -> None:
    """List the reports due for review, oldest due first: their review date after extensions
    (a decision to retain, an alert acknowledged as relevant). Shows keys and dates, never
    content; audited."""
    from pipeline.api.audit import Action, audit_index
    from pipeline.cli.progress import bars
    from pipeline.clients import elasticsearch_client
    from pipeline.index.retention import RetentionPolicy
    from pipeline.index.review import (
        Holds,
        IncidentHolds,
        RelevantAlerts,
        RetainDecisions,
        due_reports,
    )

    settings = get_settings()
    policy = RetentionPolicy.from_settings(settings)
    by = before.date() if before is not None else datetime.now(UTC).date() + timedelta(days=1)
    es = elasticsearch_client(settings)
    try:
        with reported_errors(), bars() as progress:
            holds: list[Holds] = [
                RetainDecisions(es, audit_index(settings), Action.REVIEW_RETAIN.value),
                RelevantAlerts(es, settings.index_alias, policy),
                IncidentHolds(es, settings.index_alias),
            ]
            reports = due_reports(
                es,
                settings.index_alias,
                policy,
                before=by,
                source=source,
                holds=holds,
                progress=(lambda done, total: progress("reports read", done, total))
                if progress is not None
                else None,
            )
            _audit(
                es,
                settings,
                Action.REVIEW_DUE.value,
                justification="",
                query={"before": by.isoformat(), "source": source},
                ids=[report.key for report in reports],
            )
    finally:
        es.close()
    for report in reports:
        if as_json:
            click.echo(json.dumps(report.summary(), ensure_ascii=False))
            continue
        why = f"  (extended: {', '.join(report.extended_by)})" if report.extended_by else ""
        click.echo(f"{report.due.isoformat()}  {report.key}  received {report.received_at}{why}")
    if not as_json:
        click.echo(f"{len(reports)} report(s) due for review before {by.isoformat()}")


@retention.command(short_help="Record a review's decision: retain or delete.")
@click.argument("report", metavar="SOURCE:ID")
@click.option(
    "--outcome",
    type=click.Choice(["retain", "delete"]),
    required=True,
    help="retain: review again after the source's period; delete: erase it for good.",
)
@click.option("--justification", required=True, help="Why (the review's reasoning); audited.")
@click.pass_context
def review(ctx: click.Context, report: str, outcome: str, justification: str) -> None:
    """Record a review's decision on one report (as SOURCE:ID, e.g. public_report:PR-1):
    who, when, the outcome and why, in the audit trail and on the document. `delete` erases
    the report through `pipeline erase`, so no replay brings it back. An unknown report is
    an error and changes nothing."""
    from pipeline.api.audit import Action
    from pipeline.cli.erase import erase
    from pipeline.clients import elasticsearch_client
    from pipeline.enrich.erasure.purge import UnknownReports
    from pipeline.index.retention import Outcome, RetentionPolicy, review_record
    from pipeline.index.review import find_report, record_retain
    from pipeline.ingest.erasure import parse_key

    if not justification.strip():
        raise click.UsageError("--justification must say why")
    try:
        source, source_id = parse_key(report.strip())
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    key = f"{source.value}:{source_id}"
    decided = Outcome(outcome)
    settings = get_settings()
    now = datetime.now(UTC)
    es = elasticsearch_client(settings)
    try:
        with reported_errors():
            hit = find_report(es, settings.index_alias, source.value, source_id)
            if hit is None:
                raise UnknownReports(
                    f"no such report: {key}; nothing was changed (a review names a report "
                    "the index holds, as SOURCE:ID)"
                )
            next_review: date | None = None
            if decided is Outcome.RETAIN:
                next_review = RetentionPolicy.from_settings(settings).next_review(source.value, now)
            record = review_record(
                decided,
                by=getpass.getuser(),
                at=now,
                justification=justification,
                next_review=next_review,
            )
            action = Action.REVIEW_RETAIN if next_review is not None else Action.REVIEW_DELETE
            _audit(
                es,
                settings,
                action.value,
                justification=justification,
                query={"outcome": decided.value, "next_review": record.get("next_review")},
                ids=[key],
            )
            if next_review is not None:
                record_retain(es, hit, record, next_review)
    finally:
        es.close()
    if next_review is not None:
        click.echo(f"retained {key}: next review {next_review.isoformat()}")
        return
    # the erasure's own audit record, ledger entry and purge: exactly `pipeline erase`
    ctx.invoke(
        erase,
        reports=(key,),
        selectors=(),
        justification=f"retention review: {justification}",
        dry_run=False,
    )
