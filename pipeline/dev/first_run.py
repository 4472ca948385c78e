"""API keys for a first `pipeline run` on the local stack: one per role, made once, kept 0600.

The file holds exactly what PIPELINE_API_KEYS would (`{"<key>": {"user", "role"}}`), so it
can be passed on as it is; it lives beside the stack's own `credentials.json` and, like it,
is never made for a configured cluster, whose keys are its operators' business.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pipeline.api.auth import Role
from pipeline.errors import ConfigError
from pipeline.settings import Settings

__all__ = ["FILE_NAME", "LocalKeys", "keys_path", "local_api_keys"]

FILE_NAME = "api-keys.json"


@dataclass(frozen=True)
class LocalKeys:
    """The local keys: where they are kept, and each role's key."""

    path: Path
    by_role: dict[Role, str]
    created: bool

    def as_setting(self) -> str:
        """The PIPELINE_API_KEYS value that grants these keys."""
        return json.dumps(
            {key: {"user": _user(role), "role": role.value} for role, key in self.by_role.items()}
        )

    def user(self, role: Role) -> str:
        """The user name the API gives `role`'s key."""
        return _user(role)


def _user(role: Role) -> str:
    return f"local-{role.value}"


def keys_path(state_dir: Path) -> Path:
    """`<state_dir>/api-keys.json`."""
    return state_dir / FILE_NAME


def local_api_keys(settings: Settings) -> LocalKeys | None:
    """The local keys, made on first call; None when keys are configured or the cluster is
    not the local stack (then nothing is read or written)."""
    configured = settings.api_keys is not None and settings.api_keys.get_secret_value().strip()
    if configured or not settings.uses_local_stack:
        return None
    path = keys_path(settings.state_dir)
    existing = _load(path)
    if existing is not None:
        return LocalKeys(path, existing, created=False)
    # URL-safe: pasted into a header, a shell variable or the sign-in box as it is.
    by_role = {role: secrets.token_urlsafe(24) for role in Role}
    keys = LocalKeys(path, by_role, created=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL with the mode set at creation: never readable by others, not for a moment.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another first run won the race: use its keys
        found = _load(path)
        if found is None:
            raise ConfigError(f"{path} appeared empty; delete it to make new keys") from None
        return LocalKeys(path, found, created=False)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(json.loads(keys.as_setting()), indent=2) + "\n")
    return keys


def _load(path: Path) -> dict[Role, str] | None:
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read the local API keys in {path}: delete it to make new ones"
        ) from exc
    found: dict[Role, str] = {}
    for key, entry in raw.items() if isinstance(raw, dict) else ():
        try:
            found[Role(entry["role"])] = str(key)
        except (KeyError, TypeError, ValueError):
            continue
    if not found:
        raise ConfigError(f"{path} holds no API keys: delete it to make new ones")
    return found
