"""The layout's import rules (README, "Architecture"): every import points down.

    ground floor  settings, errors, clients, credentials, backoff
    stages        ingest/ enrich/ index/        (a stage's step imports only flow.item)
    flow/         the batch path over the stages
    ops/          lag, history, status, health, metrics, logging
    runners       worker/ (faust, the only Kafka consumer), api/
    edges         admin/, dev/, cli/

Imports inside functions count: a deferred import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "pipeline"
LOWER = ("ingest", "enrich", "index", "flow", "ops")
GROUND = ("settings", "errors", "clients", "credentials", "backoff")
UPPER = ("worker", "api", "admin", "dev", "cli")


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, ast.parse(path.read_text(), filename=str(path))


MODULES = dict(_modules())


def _imports(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _package(module: str) -> str:
    """`pipeline.enrich.dedup.step` -> `enrich`; `pipeline.settings` -> `settings`."""
    return module.split(".")[1] if module.count(".") >= 1 else ""


def _in(module: str, packages: tuple[str, ...]) -> bool:
    return _package(module) in packages


def test_the_layout_is_what_the_rules_speak_of() -> None:
    packages = {_package(name) for name in MODULES if name != "pipeline"}
    assert set(LOWER) | set(UPPER) <= packages
    assert {"stack", "__main__"} & packages == {"__main__"}  # the stack lives under dev/


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _in(m, LOWER + GROUND)))
def test_stages_flow_ops_and_the_ground_floor_import_no_runner_or_edge(module: str) -> None:
    upward = {i for i in _imports(MODULES[module]) if i.startswith("pipeline.") and _in(i, UPPER)}
    assert not upward, f"{module} imports {sorted(upward)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _in(m, GROUND)))
def test_the_ground_floor_imports_only_the_ground_floor(module: str) -> None:
    above = {
        i
        for i in _imports(MODULES[module])
        if i.startswith("pipeline.") and not _in(i, GROUND) and i != "pipeline"
    }
    assert not above, f"{module} imports {sorted(above)}"


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if _in(m, ("ingest", "enrich", "index")))
)
def test_a_stage_knows_of_flow_only_the_item_its_step_works_on(module: str) -> None:
    flow = {i for i in _imports(MODULES[module]) if i.startswith("pipeline.flow")}
    assert flow <= {"pipeline.flow.item", "pipeline.flow.item.Item", "pipeline.flow.item.needs"}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _in(m, ("cli", "dev"))))
def test_only_cli_and_dev_import_dev(module: str) -> None:
    dev = {i for i in _imports(MODULES[module]) if i.startswith("pipeline.dev")}
    assert not dev, f"{module} imports {sorted(dev)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _in(m, ("worker",))))
def test_only_the_worker_imports_faust(module: str) -> None:
    assert not {i for i in _imports(MODULES[module]) if i.split(".")[0] == "faust"}


def _consumer_calls(tree: ast.Module) -> Iterator[ast.Call]:
    """Calls that build a kafka-python consumer: `KafkaConsumer(...)` or a factory given it."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = [node.func, *node.args]
            if any(isinstance(a, ast.Name) and a.id == "KafkaConsumer" for a in called):
                yield node


def _reads_without_a_group(call: ast.Call) -> bool:
    """The call (or a call nested in it, e.g. `kafka_config(...)`) passes `group_id=None`."""
    return any(
        isinstance(node, ast.keyword)
        and node.arg == "group_id"
        and isinstance(node.value, ast.Constant)
        and node.value.value is None
        for node in ast.walk(call)
    )


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _in(m, ("worker",))))
def test_only_the_worker_consumes_kafka_in_a_group(module: str) -> None:
    """Outside worker/, a consumer only reads by position (lag timestamps, the dead-letter
    store), never joins a consumer group."""
    grouped = [c.lineno for c in _consumer_calls(MODULES[module]) if not _reads_without_a_group(c)]
    assert not grouped, f"{module} builds a group consumer at line(s) {grouped}"


def test_the_rules_can_fail() -> None:
    """The checks above see a violation when there is one."""
    tree = ast.parse(
        "def f():\n    from pipeline.dev.stack import control\n"
        "    return new_kafka_client(KafkaConsumer, **kafka_config(s, group_id='g'))\n"
    )
    assert "pipeline.dev.stack.control" in _imports(tree)
    [call] = _consumer_calls(tree)
    assert not _reads_without_a_group(call)
