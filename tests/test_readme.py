"""The README stays true: its configuration table is the settings object's, and its two
commands exist."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.cli.config import variables_table

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_configuration_table_matches_the_settings_object() -> None:
    start = README.index("<!-- config-table:start -->") + len("<!-- config-table:start -->")
    end = README.index("<!-- config-table:end -->")
    assert README[start:end].strip() == variables_table(), (
        "README configuration table is stale: regenerate it with `pipeline config --table`"
    )


def test_the_two_commands_are_documented_and_executable() -> None:
    for command in ("bin/pipeline run", "scripts/check"):
        assert command in README
        assert os.access(ROOT / command.split()[0], os.X_OK)
    assert "scripts/check" in (ROOT / ".ci" / "run").read_text()
