"""axe-core (from npm, installed by `scripts/system-deps`) run inside a Playwright page."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
# Serious and critical violations fail a test; moderate and minor ones are printed only.
BLOCKING = frozenset({"serious", "critical"})


def axe_version() -> str:
    """The pinned version, read from the script that installs it (one place to change it)."""
    found = re.search(r"^AXE_CORE_VERSION=(\S+)$", (ROOT / "scripts/system-deps").read_text(), re.M)
    assert found, "scripts/system-deps pins no AXE_CORE_VERSION"
    return found.group(1)


def axe_script() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = cache / "ct-pipeline" / f"axe-core-{axe_version()}/node_modules/axe-core/axe.min.js"
    assert path.is_file(), f"{path} is missing: run scripts/system-deps"
    return path


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations of WCAG 2.x A/AA and best practice on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # evaluated through the DevTools protocol, which the page's CSP (script-src 'self')
        # does not govern: a <script> tag would be refused, and the CSP stays on for the page
        page.evaluate(axe_script().read_text() + "\n;undefined")
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
          const result = await axe.run(document, { resultTypes: ["violations"],
            runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
              "wcag22aa", "best-practice"] } });
          return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
        }"""
    )
    return found


def blocking(violations: list[dict[str, Any]]) -> list[str]:
    """The serious and critical ones, one line each: rule, what it asks, where."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['nodes'])}"
        for v in violations
        if v["impact"] in BLOCKING
    ]
