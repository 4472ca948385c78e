"""The public surface is what `__all__` says: every public top-level name is listed, and
every listed name exists (httpx keeps the same guard)."""

from __future__ import annotations

import types

import pipeline


def test_all_matches_the_public_names() -> None:
    public = {
        name
        for name, value in vars(pipeline).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(pipeline.__all__)
