"""Who is calling: configured API keys mapped to a user and a role, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from enum import StrEnum

from pipeline.errors import ConfigError
from pipeline.settings import Settings

__all__ = ["Permission", "Principal", "Role", "authenticate", "load_keys"]


class Role(StrEnum):
    """What a caller may do; `restricted` also sees reporter, caller and subject details,
    `auditor` reads the audit trail and nothing else."""

    ANALYST = "analyst"
    RESTRICTED = "restricted"
    OPERATOR = "operator"
    AUDITOR = "auditor"


class Permission(StrEnum):
    """One right a role can hold."""

    SEARCH = "search"
    SEE_RESTRICTED = "see_restricted"
    METRICS = "metrics"
    READ_AUDIT = "read_audit"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ANALYST: frozenset({Permission.SEARCH}),
    Role.RESTRICTED: frozenset({Permission.SEARCH, Permission.SEE_RESTRICTED}),
    Role.OPERATOR: frozenset({Permission.METRICS}),
    Role.AUDITOR: frozenset({Permission.READ_AUDIT}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    user: str
    role: Role

    def can(self, permission: Permission) -> bool:
        """True when this caller's role holds `permission`."""
        return permission in ROLE_PERMISSIONS[self.role]

    @property
    def sees_restricted(self) -> bool:
        """True when `restricted.*` fields may be returned to this caller."""
        return self.can(Permission.SEE_RESTRICTED)


@dataclass(frozen=True, slots=True)
class _Key:
    digest: bytes
    principal: Principal


def _digest(key: str) -> bytes:
    # Comparing fixed-length digests keeps the comparison time independent of the key length.
    return hashlib.sha256(key.encode("utf-8")).digest()


def load_keys(settings: Settings) -> tuple[_Key, ...]:
    """Parse `PIPELINE_API_KEYS` ({key: {user, role}}); no keys configured means nobody gets in.

    Unset, empty or blank (what docker compose passes for an unset variable) all mean no keys.
    """
    if settings.api_keys is None or not settings.api_keys.get_secret_value().strip():
        return ()
    try:
        raw = json.loads(settings.api_keys.get_secret_value())
    except json.JSONDecodeError as exc:
        # Never include the text: it is the secret itself.
        raise ConfigError("PIPELINE_API_KEYS is not valid JSON") from exc
    if not isinstance(raw, dict):
        raise ConfigError('PIPELINE_API_KEYS must be a JSON object {"<key>": {"user", "role"}}')
    keys: list[_Key] = []
    for number, (key, entry) in enumerate(raw.items(), start=1):
        if not isinstance(key, str) or len(key) < 16:
            raise ConfigError(f"PIPELINE_API_KEYS entry {number}: a key must be >= 16 characters")
        if not isinstance(entry, dict) or not isinstance(entry.get("user"), str):
            raise ConfigError(f"PIPELINE_API_KEYS entry {number}: needs a string 'user'")
        try:
            role = Role(str(entry.get("role")))
        except ValueError as exc:
            choices = ", ".join(r.value for r in Role)
            raise ConfigError(
                f"PIPELINE_API_KEYS entry {number} ({entry['user']}): role must be one of {choices}"
            ) from exc
        keys.append(_Key(_digest(key), Principal(user=entry["user"], role=role)))
    return tuple(keys)


def authenticate(keys: tuple[_Key, ...], presented: str | None) -> Principal | None:
    """The principal whose key matches `presented`, or None.

    Every configured key is compared, with `hmac.compare_digest`, whatever matched before,
    so the time taken says nothing about which key (or how much of one) was right.
    """
    if not presented:
        return None
    candidate = _digest(presented)
    found: Principal | None = None
    for key in keys:
        if hmac.compare_digest(candidate, key.digest):
            found = key.principal
    return found
