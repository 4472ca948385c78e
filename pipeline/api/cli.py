"""`pipeline api`, `pipeline search` and `pipeline audit`: serve, search and read the audit trail.

`pipeline search` talks to Elasticsearch directly with the API's own query builders and
writes the same audit record. The caller's identity comes from PIPELINE_API_KEY, looked up
in PIPELINE_API_KEYS like an API request; without it the CLI runs as the `analyst` role
under --user (default $USER), so restricted fields are only ever shown to a restricted key.
"""

from __future__ import annotations

import getpass
import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pipeline.api.auth import Principal
    from pipeline.api.models import SearchPage
    from pipeline.settings import Settings

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


def cli_principal(settings: Settings, user: str | None) -> Principal:
    """Who the CLI acts as: the PIPELINE_API_KEY's user and role, else `analyst` as --user/$USER."""
    from pipeline.api.auth import Permission, Principal, Role, authenticate, load_keys

    if settings.api_key is not None:
        principal = authenticate(load_keys(settings), settings.api_key.get_secret_value())
        if principal is None:
            raise click.UsageError("PIPELINE_API_KEY is not one of PIPELINE_API_KEYS")
        if not principal.can(Permission.SEARCH):
            raise click.UsageError(f"the {principal.role.value} role may not search")
        return principal
    return Principal(user=user or getpass.getuser(), role=Role.ANALYST)


def _snippet(report: Any, width: int) -> str:
    if report.highlights:
        text = " … ".join(
            "".join(f"[{s.text}]" if s.hit else s.text for s in fragment)
            for fragment in report.highlights
        )
    else:
        text = report.text
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(page: SearchPage) -> str:
    """A plain-text table of one result page."""
    width = shutil.get_terminal_size((120, 20)).columns
    summary = f"{page.total} matching report{'' if page.total == 1 else 's'}"
    if page.clusters:
        summary += f" in {page.clusters} cluster{'' if page.clusters == 1 else 's'}"
    lines = [summary]
    header = f"{'time (UTC)':<17} {'source':<23} {'region':<15} {'+sim':>4}  text"
    lines += [header, "-" * min(width, 160)]
    for r in page.results:
        when = r.timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if r.timestamp else "-"
        prefix = f"{when:<17} {r.source:<23} {(r.region or '-'):<15} {r.similar or '':>4}  "
        lines.append(prefix + _snippet(r, max(30, width - len(prefix))))
        lines.append(f"{'':<17} id={r.id}")
        if r.restricted:
            lines.append(f"{'':<17} restricted={json.dumps(r.restricted, ensure_ascii=False)}")
    if page.next_cursor:
        lines.append(f"more: --cursor {page.next_cursor}")
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
    from pipeline.api.auth import load_keys
    from pipeline.settings import get_settings

    settings = get_settings()
    if not load_keys(settings):
        click.echo("warning: PIPELINE_API_KEYS is empty: every API request will get 401", err=True)
    uvicorn.run(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level=settings.log_level.lower(),
        access_log=access_log,
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
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--cursor", help="Continue from the `more:` cursor of a previous page.")
@click.option("--no-collapse", is_flag=True, help="List every report, not one per cluster.")
@click.option("--json", "as_json", is_flag=True, help="Print the result page as JSON.")
@click.option("--justification", required=True, help="Why you search (stored in the audit trail).")
@click.option("--user", help="Your name in the audit trail when PIPELINE_API_KEY is not set.")
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
    as_json: bool,
    justification: str,
    user: str | None,
) -> None:
    """Search the reports index like the API does, and audit it.

    QUERY uses simple_query_string syntax: words (all must match), "a phrase",
    -exclude, a | b, prefix*. Runs as PIPELINE_API_KEY's user and role, else as the
    `analyst` role under --user or $USER.
    """
    from pipeline.api.audit import AuditTrail, audit_index
    from pipeline.api.deps import parse_entity_filters
    from pipeline.api.queries import BadCursorError, SearchParams, SortOrder
    from pipeline.api.service import SearchService
    from pipeline.clients import elasticsearch_client
    from pipeline.ingest.sources import Source
    from pipeline.settings import get_settings

    if not justification.strip():
        raise click.BadParameter("must say why", param_hint="--justification")
    try:
        source_values = tuple(Source(s).value for s in sources)
    except ValueError as exc:
        raise click.BadParameter(", ".join(s.value for s in Source), param_hint="--source") from exc
    try:
        entity_filters = parse_entity_filters(list(entities))
    except Exception as exc:
        raise click.BadParameter(str(getattr(exc, "detail", exc)), param_hint="--entity") from exc
    settings = get_settings()
    principal = cli_principal(settings, user)
    params = SearchParams(
        q=query,
        sources=source_values,
        regions=regions,
        entities=entity_filters,
        since=parse_when(since),
        until=parse_when(until),
        sort=SortOrder(sort),
        size=limit,
        cursor=cursor,
        collapse=not no_collapse,
        facets=False,
    )
    es = elasticsearch_client(settings)
    service = SearchService(es, settings.index_alias, AuditTrail(es, audit_index(settings)))
    try:
        page = service.search(principal, params, justification.strip(), channel="cli")
    except BadCursorError as exc:
        raise click.BadParameter(str(exc), param_hint="--cursor") from exc
    finally:
        es.close()
    click.echo(page.model_dump_json(indent=2) if as_json else render_table(page))


@click.command("audit")
@click.option("--user", help="Only this user's records.")
@click.option("--action", type=click.Choice(["search", "view_report", "view_entity", "export"]))
@click.option("--since", help="From this time: ISO 8601 or relative (24h, 7d).")
@click.option("--until", help="Up to this time: ISO 8601 or relative.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON record per line.")
def audit(
    *,
    user: str | None,
    action: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List the audit trail (who searched or viewed what, when, and why), newest first."""
    from pipeline.api.audit import AuditTrail, audit_index
    from pipeline.clients import elasticsearch_client
    from pipeline.settings import get_settings

    settings = get_settings()
    es = elasticsearch_client(settings)
    try:
        entries = AuditTrail(es, audit_index(settings)).list(
            user=user, action=action, since=parse_when(since), until=parse_when(until), limit=limit
        )
    finally:
        es.close()
    for entry in entries:
        if as_json:
            click.echo(entry.model_dump_json())
            continue
        when = entry.timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        query = json.dumps(entry.query, ensure_ascii=False, separators=(",", ":"))
        click.echo(
            f"{when}  {entry.user:<12} {entry.role:<10} {entry.action:<11} {entry.channel:<3} "
            f"ids={len(entry.ids):<3} why={entry.justification!r} query={query}"
        )
