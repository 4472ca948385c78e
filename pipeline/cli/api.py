"""`pipeline api`, `pipeline search` and `pipeline audit`: serve, search and read the audit trail.

`pipeline search` and `pipeline audit` are clients of the API over HTTP (PIPELINE_API_URL),
sending PIPELINE_API_KEY: the API authenticates it and applies its role, rate limit and audit
trail, so the CLI can never do or see more than that key may. What they print is escaped:
report text cannot move the cursor, clear the screen or reorder a line.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from pipeline.api.audit import Action
from pipeline.api.request import size_range
from pipeline.ingest.dlq import printable

if TYPE_CHECKING:
    from pipeline.api.client import ApiClient
    from pipeline.api.models import IncidentView, SearchPage

__all__ = ["api", "audit", "search"]

_RELATIVE = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(value: str | None) -> datetime | None:
    """`2026-11-01`, `2026-11-01T09:00+01:00`, or relative `30m`, `24h`, `7d` (ago), in UTC."""
    if not value:
        return None
    match = _RELATIVE.match(value.strip())
    if match:
        amount, unit = int(match.group(1)), _UNITS[match.group(2)]
        return datetime.now(UTC) - timedelta(**{unit: amount})
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise click.BadParameter(f"not a time: {value!r} (ISO 8601, or 30m / 24h / 7d)") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _snippet(report: Any, width: int) -> str:
    if report.highlights:
        text = " … ".join(
            "".join(f"[{s.text}]" if s.hit else s.text for s in fragment)
            for fragment in report.highlights
        )
    else:
        text = report.text
    return printable(" ".join(text.split()), width)


def _unlimited(text: str) -> str:
    # Line by line, so the JSON's own indentation stays; inside JSON strings an escaped
    # character reads back as itself (\uXXXX), so the output stays the same JSON.
    return "\n".join(printable(line, sys.maxsize) for line in text.split("\n"))


def render_table(page: SearchPage, unit: str = "cluster") -> str:
    """A plain-text table of one result page; `unit` is what results fold by."""
    width = shutil.get_terminal_size((120, 20)).columns
    summary = f"{page.total} matching report{'' if page.total == 1 else 's'}"
    if page.clusters:
        summary += f" in {page.clusters} {unit}{'' if page.clusters == 1 else 's'}"
    if page.partial_match:
        summary += ": no report has every word, these have most of them"
    lines = [summary]
    header = f"{'time (UTC)':<17} {'source':<23} {'region':<15} {'+sim':>4}  text"
    lines += [header, "-" * min(width, 160)]
    for r in page.results:
        when = r.timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if r.timestamp else "-"
        source, region = printable(r.source, 23), printable(r.region or "-", 40)
        prefix = f"{when:<17} {source:<23} {region:<15} {r.similar or '':>4}  "
        lines.append(prefix + _snippet(r, max(30, width - len(prefix))))
        lines.append(f"{'':<17} id={printable(r.id, 200)}")
        if r.restricted:
            shown = printable(json.dumps(r.restricted, ensure_ascii=False), 4000)
            lines.append(f"{'':<17} restricted={shown}")
    if page.next_cursor:
        lines.append(f"more: --cursor {printable(page.next_cursor, 4000)}")
    return "\n".join(lines)


def render_incident(view: IncidentView) -> str:
    """A plain-text incident view: a summary, its sources, regions and entities, a timeline."""
    width = shutil.get_terminal_size((120, 20)).columns
    span = " to ".join(
        t.astimezone(UTC).strftime("%Y-%m-%d %H:%M") for t in (view.first_seen, view.last_seen) if t
    )
    lines = [
        f"incident {printable(view.id, 200)}: {view.total} report(s) in {view.clusters} "
        f"cluster(s), {span or 'no reports'}",
        "sources: " + ", ".join(f"{printable(b.value, 40)} {b.count}" for b in view.sources),
        "regions: " + ", ".join(f"{printable(b.value, 40)} {b.count}" for b in view.regions),
    ]
    for kind, seen in view.entities.items():
        values = ", ".join(f"{printable(s.value, 80)} ({s.count})" for s in seen)
        lines.append(printable(f"{kind}: {values}", 4000))
    lines += [f"{'time (UTC)':<17} {'source':<23} {'region':<15} text", "-" * min(width, 160)]
    for r in view.reports:
        when = r.timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if r.timestamp else "-"
        prefix = f"{when:<17} {printable(r.source, 23):<23} {printable(r.region or '-', 40):<15} "
        lines.append(prefix + _snippet(r, max(30, width - len(prefix))))
    if view.total > len(view.reports):
        lines.append(f"(the first {len(view.reports)} of {view.total} shown)")
    return "\n".join(lines)


@click.command("api")
@click.option("--host", default=None, help="Bind address (default PIPELINE_API_HOST).")
@click.option("--port", type=int, default=None, help="Port (default PIPELINE_API_PORT).")
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log each request line; off by default because query strings can hold names.",
)
def api(host: str | None, port: int | None, access_log: bool) -> None:
    """Serve the search API and the analysts' web page (keys from PIPELINE_API_KEYS)."""
    import uvicorn

    from pipeline.api.app import create_app
    from pipeline.ops.logging import configure_logging
    from pipeline.settings import get_settings

    settings = get_settings()
    configure_logging(settings)
    uvicorn.run(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level=settings.log_level.lower(),
        access_log=access_log,
        # The client address (rate limits, refusal records) is the TCP peer's: uvicorn would
        # otherwise believe X-Forwarded-For from any local process.
        proxy_headers=False,
        # Open alert streams (/api/alerts/stream) would otherwise hold a stop for their life.
        timeout_graceful_shutdown=5,
        # uvicorn's loggers go through the pipeline's own logging (JSON lines, or the files
        # `pipeline run` keeps), not a format of its own
        log_config=None,
    )


@click.command("search")
@click.argument("query", required=False, default="")
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable).")
@click.option(
    "--region", "regions", multiple=True, help="Only this CT policing region (repeatable)."
)
@click.option("--entity", "entities", multiple=True, help="TYPE=VALUE, e.g. phone=07700900123.")
@click.option("--since", help="From this time: ISO 8601 or relative (24h, 7d).")
@click.option("--until", help="Up to this time: ISO 8601 or relative.")
@click.option(
    "--sort",
    type=click.Choice(["relevance", "newest", "oldest", "priority"]),
    default="relevance",
    help="priority: highest derived priority first, newest first among equals.",
)
@click.option("--limit", type=click.IntRange(*size_range()), default=20, show_default=True)
@click.option("--cursor", help="Continue from the `more:` cursor of a previous page.")
@click.option("--no-collapse", is_flag=True, help="List every report, not one per cluster.")
@click.option(
    "--fold",
    type=click.Choice(["cluster", "incident"]),
    default="cluster",
    show_default=True,
    help="One result per cluster (same text) or per incident (same event, any words).",
)
@click.option("--incident", "incidents", multiple=True, help="Only this incident's reports.")
@click.option(
    "--semantic",
    is_flag=True,
    help="Find reports nearest QUERY in meaning, whatever their words (one page, no facets).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result page as JSON.")
@click.option("--justification", required=True, help="Why you search (stored in the audit trail).")
def search(
    *,
    query: str,
    sources: tuple[str, ...],
    regions: tuple[str, ...],
    entities: tuple[str, ...],
    since: str | None,
    until: str | None,
    sort: str,
    limit: int,
    cursor: str | None,
    no_collapse: bool,
    fold: str,
    incidents: tuple[str, ...],
    semantic: bool,
    as_json: bool,
    justification: str,
) -> None:
    """Search the reports through the search API, as PIPELINE_API_KEY's user and role.

    QUERY uses simple_query_string syntax: words (all must match), "a phrase",
    -exclude, a | b, prefix*. The API audits the search under the key's user; there is
    no other identity to give.
    """
    from pipeline.api.models import SearchPage
    from pipeline.ingest.sources import Source

    said_why(justification)
    try:
        source_values = [Source(s).value for s in sources]
    except ValueError as exc:
        raise click.BadParameter(", ".join(s.value for s in Source), param_hint="--source") from exc
    params = [("q", query), ("sort", sort), ("size", str(limit))]
    params += [("source", s) for s in source_values] + [("region", r) for r in regions]
    params += [("entity", e) for e in entities]
    params += [
        (name, t.isoformat())
        for name, t in (("since", parse_when(since)), ("until", parse_when(until)))
        if t
    ]
    params += [("cursor", cursor)] if cursor else []
    params.append(("collapse", "false" if no_collapse else "true"))
    params += [("fold", fold)] + [("incident", i) for i in incidents]
    params += [("mode", "semantic")] if semantic else []
    page = SearchPage.model_validate(call_api("/api/search", params, justification.strip()))
    click.echo(_unlimited(page.model_dump_json(indent=2)) if as_json else render_table(page, fold))


@contextmanager
def api_client() -> Iterator[ApiClient]:
    """The API as PIPELINE_API_KEY; a refusal ends the command in one line."""
    from pipeline.api.client import ApiCallError, ApiClient
    from pipeline.settings import get_settings

    try:
        with ApiClient(get_settings()) as client:
            yield client
    except ApiCallError as exc:
        raise click.ClickException(str(exc)) from exc


def call_api(path: str, params: list[tuple[str, str]], justification: str | None) -> Any:
    """GET `path` from the API as PIPELINE_API_KEY; a refusal ends the command in one line."""
    with api_client() as client:
        return client.get(path, params, justification=justification)


def said_why(value: str, option: str = "--justification") -> str:
    """A justification as given, stripped; a blank one is a usage error naming `option`."""
    if not value.strip():
        raise click.BadParameter("must say why", param_hint=option)
    return value.strip()


AUDIT_ACTIONS = tuple(action.value for action in Action)


@click.command("audit")
@click.option("--user", help="Only this user's records.")
@click.option("--action", type=click.Choice(AUDIT_ACTIONS))
@click.option("--since", help="From this time: ISO 8601 or relative (24h, 7d).")
@click.option("--until", help="Up to this time: ISO 8601 or relative.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON record per line.")
@click.option("--justification", help="Why you read the trail (stored with your read).")
def audit(
    *,
    user: str | None,
    action: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
    justification: str | None,
) -> None:
    """List the audit trail (who searched or viewed what, when, and why), newest first.

    Through the API, with an `auditor` key in PIPELINE_API_KEY; the read is audited too.
    """
    from pipeline.api.models import AuditEntry

    params = [("limit", str(limit))]
    params += [("user", user)] if user else []
    params += [("action", action)] if action else []
    params += [
        (name, t.isoformat())
        for name, t in (("since", parse_when(since)), ("until", parse_when(until)))
        if t
    ]
    found = call_api("/api/audit", params, justification)
    for entry in (AuditEntry.model_validate(item) for item in found):
        if as_json:
            click.echo(_unlimited(entry.model_dump_json()))
            continue
        when = entry.timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        query = json.dumps(entry.query, ensure_ascii=False, separators=(",", ":"))
        line = (
            f"{when}  {entry.user:<12} {entry.role:<10} {entry.action:<11} {entry.channel:<3} "
            f"ids={len(entry.ids):<3} why={entry.justification!r} query={query}"
        )
        click.echo(_unlimited(line))
