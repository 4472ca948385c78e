"""`pipeline watch` and `pipeline alerts`: an analyst's watchlist and alerts, through the API.

Like `pipeline search`, these are clients of the API over HTTP (PIPELINE_API_URL) sending
PIPELINE_API_KEY: the entries and alerts are the key's user's, and the API audits every call.
Creating an entry is justified by the entry's own justification; every other command needs
`--justification`. What they print is escaped: no value can drive the terminal.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import click

from pipeline.cli.api import api_client, parse_when, said_why
from pipeline.ingest.dlq import printable

if TYPE_CHECKING:
    from pipeline.api.client import ApiClient

__all__ = ["alerts", "follow", "watch"]

PRIORITIES = ("low", "normal", "high")
OUTCOMES = ("relevant", "not_relevant", "duplicate")
# How far back each poll of `alerts tail` looks past the previous one: an alert is stamped a
# moment before it becomes searchable (the bulk write, then the index refresh).
TAIL_OVERLAP = timedelta(seconds=5)

_justification = click.option(
    "--justification", required=True, help="Why you need this (stored in the audit trail)."
)
_as_json = click.option("--json", "as_json", is_flag=True, help="Print the API's JSON answer.")


def _path(*parts: str) -> str:
    return "/api/" + "/".join(quote(part, safe="") for part in parts)


def _show(value: Any, as_json: bool, line: Callable[[Any], str]) -> None:
    if as_json:
        click.echo(printable(json.dumps(value, ensure_ascii=False), 1_000_000))
    else:
        click.echo(line(value))


def _expiry(expires: str | None, days: int | None) -> str | None:
    if expires and days is not None:
        raise click.UsageError("give --expires or --days, not both")
    if days is not None:
        return (datetime.now(UTC) + timedelta(days=days)).isoformat()
    if not expires:
        return None
    try:
        moment = datetime.fromisoformat(expires.strip())
    except ValueError as exc:
        raise click.BadParameter(
            f"not a date: {expires!r} (ISO 8601, e.g. 2027-03-01; or use --days)",
            param_hint="--expires",
        ) from exc
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment).isoformat()


def _search(query: str, sources: tuple[str, ...], regions: tuple[str, ...]) -> dict[str, Any]:
    return {"q": query, "sources": list(sources), "regions": list(regions)}


def _watched(entry: dict[str, Any]) -> str:
    target, search = entry.get("target"), entry.get("search") or {}
    if target:
        return f"{target['type']}:{target['value']} (matches {target['key']})"
    filters = [*search.get("sources", []), *search.get("regions", [])]
    return f"search {search['q']!r}" + (f" in {', '.join(filters)}" if filters else "")


def entry_line(entry: dict[str, Any]) -> str:
    """One entry on one line: id, state, priority, expiry, what it watches, why."""
    expiry = datetime.fromisoformat(entry["expiry"]).astimezone(UTC)
    state = "live" if entry["live"] else "expired"
    flags = " restricted" if entry.get("restricted") else ""
    return printable(
        f"{entry['id']}  {state:<7} {entry['priority']:<6} until {expiry:%Y-%m-%d}{flags}  "
        f"{_watched(entry)}  why={entry['justification']!r}",
        2000,
    )


@click.group("watch")
def watch() -> None:
    """Watch selectors, names and saved searches: add, list, change and remove entries.

    A TARGET is `type:value`: phone, vehicle, handle, url, email, postcode (normalised as the
    reports are, so any written form matches), person or org (any case, accents or word
    order). Entries expire after 90 days unless told otherwise, a year at most.
    """


@watch.command("add")
@click.argument("target", required=False)
@click.option("--search", "query", help="Watch a saved search (the query text of `search`).")
@click.option("--source", "sources", multiple=True, help="Saved search: only this source.")
@click.option("--region", "regions", multiple=True, help="Saved search: only this region.")
@click.option("--justification", required=True, help="Why you watch this (kept with the entry).")
@click.option("--priority", type=click.Choice(PRIORITIES), default="normal", show_default=True)
@click.option("--expires", help="Expiry: ISO 8601 date or time (UTC unless given).")
@click.option("--days", type=click.IntRange(1, 365), help="Expiry in this many days.")
@click.option("--restricted", is_flag=True, help="Also match restricted details (restricted role).")
@_as_json
def add(
    *,
    target: str | None,
    query: str | None,
    sources: tuple[str, ...],
    regions: tuple[str, ...],
    justification: str,
    priority: str,
    expires: str | None,
    days: int | None,
    restricted: bool,
    as_json: bool,
) -> None:
    """Watch a TARGET or a saved search, as your entry.

    TARGET is `type:value`, e.g. "phone:07700 900123" or "person:Fatima Khan"; or give
    --search "query" (the query text of `pipeline search`), narrowed by --source and --region.
    """
    if (target is None) == (query is None):
        raise click.UsageError("give a TARGET or --search, not both")
    if (sources or regions) and query is None:
        raise click.UsageError("--source and --region narrow a --search")
    body: dict[str, Any] = {
        "justification": said_why(justification),
        "priority": priority,
        "restricted": restricted,
    }
    if target is not None:
        body["target"] = target
    else:
        body["search"] = _search(query or "", sources, regions)
    if (expiry := _expiry(expires, days)) is not None:
        body["expiry"] = expiry
    with api_client() as client:
        entry = client.post(_path("watch"), body)
    _show(entry, as_json, lambda e: "watching: " + entry_line(e))


@watch.command("list")
@_justification
@_as_json
def list_entries(*, justification: str, as_json: bool) -> None:
    """List your entries, newest first, live and expired ones."""
    with api_client() as client:
        found = client.get(_path("watch"), [], justification=said_why(justification))
    if as_json:
        _show(found, True, str)
        return
    entries = found["entries"]
    click.echo(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}")
    for entry in entries:
        click.echo(entry_line(entry))


@watch.command("change")
@click.argument("entry_id")
@click.option("--target", help="Watch this TARGET instead.")
@click.option("--search", "query", help="Watch this saved search instead.")
@click.option("--source", "sources", multiple=True, help="With --search: only this source.")
@click.option("--region", "regions", multiple=True, help="With --search: only this region.")
@click.option("--priority", type=click.Choice(PRIORITIES))
@click.option("--expires", help="New expiry: ISO 8601 date or time (UTC unless given).")
@click.option("--days", type=click.IntRange(1, 365), help="New expiry in this many days.")
@click.option("--new-justification", help="Replace the entry's justification.")
@_justification
@_as_json
def change(
    *,
    entry_id: str,
    target: str | None,
    query: str | None,
    sources: tuple[str, ...],
    regions: tuple[str, ...],
    priority: str | None,
    expires: str | None,
    days: int | None,
    new_justification: str | None,
    justification: str,
    as_json: bool,
) -> None:
    """Change what one of your entries watches, its priority or expiry.

    --justification says why you change it (audited); --new-justification replaces the
    entry's own. The expiry stays within a year of the entry's creation.
    """
    if target is not None and query is not None:
        raise click.UsageError("give --target or --search, not both")
    if (sources or regions) and query is None:
        raise click.UsageError("--source and --region narrow a --search")
    body: dict[str, Any] = {}
    if target is not None:
        body["target"] = target
    if query is not None:
        body["search"] = _search(query, sources, regions)
    if priority is not None:
        body["priority"] = priority
    if (expiry := _expiry(expires, days)) is not None:
        body["expiry"] = expiry
    if new_justification is not None:
        body["justification"] = said_why(new_justification, "--new-justification")
    if not body:
        raise click.UsageError("nothing to change: give --target, --search, --priority, ...")
    why = said_why(justification)
    with api_client() as client:
        entry = client.patch(_path("watch", entry_id), body, justification=why)
    _show(entry, as_json, lambda e: "changed: " + entry_line(e))


@watch.command("rm")
@click.argument("entry_id")
@_justification
def remove(*, entry_id: str, justification: str) -> None:
    """Stop watching: delete one of your entries, whose alerts stay."""
    why = said_why(justification)
    with api_client() as client:
        client.delete(_path("watch", entry_id), justification=why)
    click.echo(f"deleted {printable(entry_id, 200)}")


def _what(alert: dict[str, Any]) -> str:
    if alert.get("target"):
        return f"{alert['target']['type']}:{alert['target']['key']}"
    if alert.get("search"):
        return f"search {alert['search']['q']!r}"
    return "-"


def alert_line(alert: dict[str, Any], state: str | None = None) -> str:
    """One alert on one line: when, state, priority, what matched, where, how many reports."""
    first = datetime.fromisoformat(alert["first_seen"]).astimezone(UTC)
    ack = alert.get("acknowledged")
    state = state or ("acked" if ack else "new")
    outcome = f" {ack['outcome']} by {ack['by']}" if ack else ""
    restricted = " restricted" if alert.get("restricted") else ""
    return printable(
        f"{first:%Y-%m-%d %H:%M}  {state:<6} {alert['priority']:<6} {_what(alert)}  "
        f"reports={alert['count']} cluster={alert['cluster_id']} report={alert['report_id']} "
        f"source={alert['source']}{restricted}{outcome}  id={alert['id']}",
        2000,
    )


@click.group("alerts")
def alerts() -> None:
    """Your alerts: list them, show one with its reports, acknowledge, or follow new ones."""


@alerts.command("list")
@click.option("--unacknowledged", is_flag=True, help="Only alerts nobody acknowledged yet.")
@click.option("--since", help="Only alerts new or changed since: ISO 8601 or relative (24h).")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--cursor", help="Continue from the `more:` cursor of a previous page.")
@_justification
@_as_json
def list_alerts(
    *,
    unacknowledged: bool,
    since: str | None,
    limit: int,
    cursor: str | None,
    justification: str,
    as_json: bool,
) -> None:
    """List your alerts, newest first, with how many reports each counts."""
    params = [("size", str(limit)), ("unacknowledged", str(unacknowledged).lower())]
    if (moment := parse_when(since)) is not None:
        params.append(("since", moment.isoformat()))
    if cursor:
        params.append(("cursor", cursor))
    why = said_why(justification)
    with api_client() as client:
        found = client.get(_path("alerts"), params, justification=why)
    if as_json:
        _show(found, True, str)
        return
    for alert in found["alerts"]:
        click.echo(alert_line(alert))
    if found.get("next_cursor"):
        click.echo(f"more: --cursor {printable(found['next_cursor'], 400)}")


@alerts.command("show")
@click.argument("alert_id")
@_justification
@_as_json
def show(*, alert_id: str, justification: str, as_json: bool) -> None:
    """Show one of your alerts and the reports it counts."""
    why = said_why(justification)
    with api_client() as client:
        view = client.get(_path("alerts", alert_id), [], justification=why)
    if as_json:
        _show(view, True, str)
        return
    click.echo(alert_line(view["alert"]))
    for hit in view["hits"]:
        seen = datetime.fromisoformat(hit["seen_at"]).astimezone(UTC)
        mention = hit.get("mention") or {}
        said = f" said {mention['text']!r}" if mention.get("text") else ""
        line = f"  {seen:%Y-%m-%d %H:%M:%S}  {hit['source']:<23} report={hit['report_id']}{said}"
        click.echo(printable(line, 2000))


@alerts.command("ack")
@click.argument("alert_id")
@click.option("--outcome", type=click.Choice(OUTCOMES), required=True, help="What you found.")
@click.option("--note", help="A note kept with the acknowledgement.")
@_justification
@_as_json
def ack(
    *, alert_id: str, outcome: str, note: str | None, justification: str, as_json: bool
) -> None:
    """Acknowledge one of your alerts: that you read it, and what it was."""
    body = {"outcome": outcome, **({"note": note} if note else {})}
    why = said_why(justification)
    with api_client() as client:
        alert = client.post(_path("alerts", alert_id, "ack"), body, justification=why)
    _show(alert, as_json, alert_line)


def _state(alert: dict[str, Any]) -> tuple[int, str | None]:
    ack = alert.get("acknowledged") or {}
    return int(alert["count"]), ack.get("at")


def follow(
    client: ApiClient,
    justification: str,
    *,
    interval_s: float = 1.0,
    echo: Callable[[str], None] = click.echo,
    ready: Callable[[], None] = lambda: None,
    running: Callable[[], bool] = lambda: True,
) -> None:
    """Poll the API for alerts new or changed and `echo` a line for each, until `running()`
    is false. What was there at the first poll is taken as seen (then `ready()`), not printed;
    an alert first seen before that and changed since is an update, not a new one."""
    seen: dict[str, tuple[int, str | None]] = {}
    start = looked = datetime.now(UTC)
    first = True
    while running():
        polled = datetime.now(UTC)
        params = [("size", "100"), ("since", (looked - TAIL_OVERLAP).isoformat())]
        found = client.get(_path("alerts"), params, justification=justification)
        for alert in reversed(found["alerts"]):  # oldest first, as they happened
            before, now = seen.get(alert["id"]), _state(alert)
            seen[alert["id"]] = now
            if first or before == now:
                continue
            new = before is None and datetime.fromisoformat(alert["first_seen"]) >= start
            echo(alert_line(alert, "new" if new else "update"))
        if first:
            ready()
        looked, first = polled, False
        time.sleep(interval_s)


@alerts.command("tail")
@click.option(
    "--interval", type=click.FloatRange(0.2, 60), default=1.0, show_default=True, help="Seconds."
)
@_justification
def tail(*, interval: float, justification: str) -> None:
    """Follow your alerts: a line per new alert or change, until Ctrl-C.

    A change is another report in an alert's cluster or an acknowledgement. The API is asked
    every --interval seconds.
    """
    why = said_why(justification)

    def ready() -> None:
        click.echo(f"following your alerts every {interval:g} s; Ctrl-C stops", err=True)

    try:
        with api_client() as client:
            follow(client, why, interval_s=interval, ready=ready)
    except KeyboardInterrupt:
        return
