"""Users and roles of the local Elasticsearch node: file realm users, file-based roles.

Roles name indices by kind, for any alias, so every deployment on one node (tests isolate by
alias) gets the same rules: `<alias>-audit` is the audit trail, `<alias>-dedup` the dedup
state, `<alias>-watch` the watchlist entries, `<alias>-alerts` their alerts, everything else
report data. Patterns between slashes are Lucene regular expressions.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

import yaml

from pipeline.credentials import IDENTITIES, StackCredentials

AUDIT = "*-audit"
# Entries are the API's to write (for their owners) and the workers' to read; alerts the
# workers' to write and the API's to read and acknowledge. Who watches whom is itself
# sensitive: the analysts' identity (`ct-api`) reads neither, the API reads them as
# `ct-api-restricted` and shows each caller only their own.
WATCH = "*-watch"
ALERTS = "*-alerts"
CORRECTIONS = "*-incident-corrections"
WORKER_WRITES = "/~(.*-(audit|watch))/"
REPORTS = "/~(.*-(audit|dedup|watch|alerts))/"
# Field-level security needs a platinum or trial licence; on a basic one Elasticsearch
# disables the whole role, so analyst requests fail (closed) instead of seeing these fields.
ANALYST_HIDDEN = ["restricted.*"]

# What each identity's role allows; `ct-admin` is a superuser.
ROLES: dict[str, dict[str, Any]] = {
    "ct_worker": {
        # The worker creates its index, template and dedup state at start (idempotently),
        # probing first which analyzers the node has (an action only `manage` grants).
        "cluster": ["monitor", "manage_index_templates", "cluster:admin/analyze"],
        "indices": [
            {
                "names": [WORKER_WRITES],
                "privileges": ["read", "write", "create_index", "manage", "view_index_metadata"],
            },
            # the worker creates the watchlist index at start, then only reads it
            {"names": [WATCH], "privileges": ["read", "create_index", "view_index_metadata"]},
        ],
    },
    "ct_api": {
        "cluster": ["monitor"],
        "indices": [
            {
                "names": [REPORTS],
                "privileges": ["read", "view_index_metadata"],
                "field_security": {"grant": ["*"], "except": ANALYST_HIDDEN},
            },
            # Append only: create_doc cannot replace a record, delete one, or create the index.
            {"names": [AUDIT], "privileges": ["create_doc", "view_index_metadata"]},
        ],
    },
    "ct_api_restricted": {
        "cluster": ["monitor"],
        "indices": [
            {"names": [REPORTS], "privileges": ["read", "view_index_metadata"]},
            # the API's general identity: it also serves the trail to auditors (`/api/audit`)
            {"names": [AUDIT], "privileges": ["create_doc", "read", "view_index_metadata"]},
            # entries stored and changed (never deleted: marked so), alerts acknowledged
            {
                "names": [WATCH],
                "privileges": ["read", "index", "create_index", "view_index_metadata"],
            },
            {"names": [ALERTS], "privileges": ["read", "index", "view_index_metadata"]},
            # analysts' incident corrections, recorded for the workers to apply
            {
                "names": [CORRECTIONS],
                "privileges": ["read", "index", "create_index", "view_index_metadata"],
            },
        ],
    },
    "ct_operator": {
        "cluster": ["monitor"],
        "indices": [
            {"names": [REPORTS], "privileges": ["view_index_metadata", "monitor"]},
            {"names": [AUDIT], "privileges": ["read", "view_index_metadata"]},
        ],
    },
}
USER_ROLES: dict[str, str] = {
    "admin": "superuser",
    "worker": "ct_worker",
    "api": "ct_api",
    "api-restricted": "ct_api_restricted",
    "operator": "ct_operator",
}
# Elasticsearch reads `{PBKDF2}<iterations>$<salt>$<key>` (PBKDF2-HMAC-SHA512, 256-bit key).
PBKDF2_ITERATIONS = 100_000


def pbkdf2_hash(password: str, salt: bytes | None = None) -> str:
    """A password hash in the form Elasticsearch's file realm verifies."""
    salt = salt if salt is not None else secrets.token_bytes(32)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS, dklen=32)
    encoded = [base64.b64encode(part).decode() for part in (salt, key)]
    return f"{{PBKDF2}}{PBKDF2_ITERATIONS}${encoded[0]}${encoded[1]}"


def users_file(credentials: StackCredentials) -> str:
    """config/users: `name:hash` a line."""
    lines = [
        f"{user}:{pbkdf2_hash(credentials.password(identity))}"
        for identity, user in IDENTITIES.items()
    ]
    return "\n".join(lines) + "\n"


def users_roles_file() -> str:
    """config/users_roles: `role:user1,user2` a line."""
    by_role: dict[str, list[str]] = {}
    for identity, role in USER_ROLES.items():
        by_role.setdefault(role, []).append(IDENTITIES[identity])
    return "\n".join(f"{role}:{','.join(users)}" for role, users in by_role.items()) + "\n"


def roles_file() -> str:
    """config/roles.yml."""
    return yaml.safe_dump(ROLES, sort_keys=False)


def security_settings() -> dict[str, Any]:
    """elasticsearch.yml entries of a node with users and roles and plain HTTP on loopback."""
    return {
        "xpack.security.enabled": True,
        "xpack.security.enrollment.enabled": False,
        # Loopback only: no certificates to manage; passwords never leave the machine.
        "xpack.security.http.ssl.enabled": False,
        "xpack.security.transport.ssl.enabled": False,
        # A new cluster starts a 30-day trial, the licence with field-level security.
        "xpack.license.self_generated.type": "trial",
    }
