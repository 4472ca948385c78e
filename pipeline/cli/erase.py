"""`pipeline erase`: erase reports everywhere the pipeline keeps them (README, "Erasure")."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime

import click

from pipeline.cli.publish import reported_errors
from pipeline.settings import get_settings


@click.command()
@click.option(
    "--report",
    "reports",
    multiple=True,
    metavar="SOURCE:ID",
    help="A report to erase, e.g. public_report:PR-1 (repeatable).",
)
@click.option(
    "--where",
    "selectors",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Also every report whose FIELD holds exactly VALUE, e.g. "
    "restricted.reporter.email=a@b.org or entities.phone=+447700900123 (repeatable).",
)
@click.option("--justification", required=True, help="Why (the legal ground); audited.")
@click.option(
    "--dry-run", is_flag=True, help="List the reports that would be erased; change nothing."
)
def erase(
    reports: tuple[str, ...], selectors: tuple[str, ...], justification: str, dry_run: bool
) -> None:
    """Erase reports: append each to the erasure ledger (`intake.erasures`), then remove it
    from every index generation, the dedup state and the alerts. Workers never index an
    erased report again, whatever is replayed. An unknown report, or a selector that
    matches none, changes nothing."""
    from pipeline.api.audit import Action, AuditTrail, audit_index
    from pipeline.api.models import AuditEntry
    from pipeline.clients import elasticsearch_client
    from pipeline.enrich.erasure import Purger, append_erasures
    from pipeline.enrich.erasure.purge import checked_keys
    from pipeline.ingest.erasure import Erasure

    if not justification.strip():
        raise click.UsageError("--justification must say why")
    settings = get_settings()
    who = getpass.getuser()
    es = elasticsearch_client(settings)
    try:
        with reported_errors():
            purger = Purger(es, settings)
            try:
                named = list(reports)
                for selector in selectors:
                    field, sep, value = selector.partition("=")
                    if not sep or not field or not value:
                        raise ValueError(f"{selector!r} is not FIELD=VALUE")
                    found = purger.select(field.strip(), value)
                    if not found:
                        raise ValueError(f"no report has {selector}; nothing was erased")
                    named += found
                keys = checked_keys(purger, named)
            except ValueError as exc:
                raise click.UsageError(str(exc)) from None
            # audited first: without the record, nothing is erased (or shown)
            AuditTrail(es, audit_index(settings)).write(
                AuditEntry(
                    timestamp=datetime.now(UTC),
                    user=who,
                    role="operator",
                    action=Action.ERASE.value,
                    justification=justification,
                    # the selectors' fields, never their values: those are what is erased
                    query={
                        "where": [sel.partition("=")[0] for sel in selectors],
                        "dry_run": dry_run,
                    },
                    ids=keys,
                    channel="cli",
                )
            )
            if dry_run:
                for key in keys:
                    click.echo(f"would erase {key}")
                return
            append_erasures(settings, [Erasure.now(key, who, justification) for key in keys])
            result = purger.purge_all(keys)
    finally:
        es.close()
    for key in keys:
        click.echo(f"erased {key}")
    click.echo(
        f"erased {len(keys)} report(s): {result.documents} index document(s), "
        f"{result.dedup} dedup record(s), {result.incidents} incident record(s), "
        f"{result.alerts} alert record(s)"
        + (f"; {len(result.promoted)} cluster(s) got a new first report" if result.promoted else "")
    )
