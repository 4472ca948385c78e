"""The local node's licence: whether it enforces field-level security, and until when.

Field-level security (the analyst role's `restricted.*` exclusion) needs a trial or platinum
licence. A new node starts a 30-day trial; a node whose licence does not allow it disables
the analyst role, so analyst requests are refused (closed), never answered with the fields.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pipeline.dev.stack import elasticsearch
from pipeline.settings import Settings

WITH_FLS = ("trial", "platinum", "enterprise")


def enforces_field_security(body: dict[str, Any]) -> bool:
    """Whether a `GET /_license` answer allows field-level security right now."""
    licence = body.get("license") or {}
    return licence.get("status") == "active" and licence.get("type") in WITH_FLS


def describe(body: dict[str, Any]) -> str:
    """One line: type, status, expiry."""
    licence = body.get("license") or {}
    expiry = licence.get("expiry_date_in_millis")
    until = (
        datetime.fromtimestamp(int(expiry) / 1000, UTC).strftime("%Y-%m-%d")
        if expiry is not None
        else "no expiry"
    )
    return f"{licence.get('type')} ({licence.get('status')}, until {until})"


def check(settings: Settings, echo: Callable[[str], None]) -> bool:
    """Start the trial on a basic node that never had one; say what the licence enforces."""
    body = elasticsearch.get(settings, "/_license") or {}
    if (body.get("license") or {}).get("type") == "basic":
        # Only once per cluster; refused afterwards, which leaves the node on basic.
        elasticsearch.request(settings, "/_license/start_trial?acknowledge=true", method="POST")
        body = elasticsearch.get(settings, "/_license") or {}
    if enforces_field_security(body):
        echo(f"Elasticsearch licence {describe(body)}: analysts never see restricted.*")
        return True
    echo(
        f"WARNING: Elasticsearch licence {describe(body)} has no field-level security: "
        "requests as ct-api (analysts) are refused until a trial/platinum licence is installed"
    )
    return False
