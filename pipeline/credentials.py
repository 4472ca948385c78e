"""The local stack's identities and their passwords, generated once and kept 0600 in the state dir.

One identity per kind of process, each with the least it needs (README, "Security"):

    admin           ct-admin            stack, topics, index, reindex set-up; tests
    worker          ct-worker           stream workers: intake in, dead letters out, report indices
    api             ct-api              analyst requests: reads reports without `restricted.*`
    api-restricted  ct-api-restricted   restricted-role requests: reads reports whole
    operator        ct-operator         lag, dead-letter topic and replay, the audit trail

A stack whose state dir holds the credentials file runs with security on; one created before
the file existed runs as it was (see `control.up`).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import StackError

IDENTITIES: dict[str, str] = {
    "admin": "ct-admin",
    "worker": "ct-worker",
    "api": "ct-api",
    "api-restricted": "ct-api-restricted",
    "operator": "ct-operator",
}
# The broker's own login to its controller listener (SASL/PLAIN: SCRAM needs the metadata log
# that the controller serves, so it cannot authenticate the controller's own clients).
CONTROLLER_USER = "ct-controller"
FILE_NAME = "credentials.json"


@dataclass(frozen=True)
class StackCredentials:
    """User name -> password of every account the local stack knows."""

    passwords: dict[str, str]

    def username(self, identity: str) -> str:
        """The account name of a process identity (`worker` -> `ct-worker`)."""
        try:
            return IDENTITIES[identity]
        except KeyError:
            known = ", ".join(IDENTITIES)
            raise StackError(f"unknown identity {identity!r}; expected one of {known}") from None

    def password(self, identity: str) -> str:
        """The password of a process identity."""
        return self.passwords[self.username(identity)]

    @property
    def controller_password(self) -> str:
        """The broker's password on its own controller listener."""
        return self.passwords[CONTROLLER_USER]


def credentials_path(state_dir: Path) -> Path:
    """Where the passwords live: `<state_dir>/credentials.json`, readable by its owner only."""
    return state_dir / FILE_NAME


def load(state_dir: Path) -> StackCredentials | None:
    """The stack's credentials, or None when this stack runs without security."""
    path = credentials_path(state_dir)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except PermissionError as exc:
        raise StackError(
            f"cannot read {path}: the local stack's passwords belong to the user who ran "
            "`pipeline stack up`"
        ) from exc
    passwords = json.loads(text)["passwords"]
    return StackCredentials({str(k): str(v) for k, v in passwords.items()})


def create(state_dir: Path) -> StackCredentials:
    """Generate a random password for every account, once; later calls return the same ones."""
    existing = load(state_dir)
    if existing is not None:
        return existing
    users = [*IDENTITIES.values(), CONTROLLER_USER]
    # URL-safe and ASCII: the same bytes in JAAS config, SCRAM, PBKDF2 and HTTP basic auth.
    passwords = {user: secrets.token_urlsafe(24) for user in users}
    body = json.dumps({"version": 1, "passwords": passwords}, indent=2) + "\n"
    path = credentials_path(state_dir)
    # O_EXCL with the mode set at creation: the file is never readable by others, not even
    # for a moment, and two concurrent first starts cannot both write one.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(body)
    return StackCredentials(passwords)


def admin_kafka_options(state_dir: Path) -> dict[str, str]:
    """kafka-python options for `ct-admin` on the local broker (PLAIN: works before the SCRAM
    users exist), or none for a stack without security."""
    secrets = load(state_dir)
    if secrets is None:
        return {}
    return {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": secrets.username("admin"),
        "sasl_plain_password": secrets.password("admin"),
    }
