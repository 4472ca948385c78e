"""`pipeline entities …` through click's runner (exact-only paths: no model needed)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from pipeline.cli.entities import entities


def test_extract_exact_only() -> None:
    result = CliRunner().invoke(
        entities, ["extract", "--exact-only", "Ring 07700 900123 re AB12 CDE at LS1 4AP"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["entities"] == {
        "phone": ["+447700900123"],
        "vehicle": ["AB12CDE"],
        "postcode": ["LS1 4AP"],
    }
    assert payload["region"] == "North East"
    assert payload["entity_mentions"][0] == {
        "type": "phone", "text": "07700 900123", "value": "+447700900123", "start": 5, "end": 17,
    }  # fmt: skip


def test_extract_reads_stdin_and_location_options() -> None:
    result = CliRunner().invoke(
        entities, ["extract", "--exact-only", "--postcode", "BT1 5GS"], input="nothing here"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["region"] == "Northern Ireland"


def test_eval_exact_only() -> None:
    result = CliRunner().invoke(entities, ["eval", "--exact-only"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].split() == ["type", "gold", "tp", "fp", "fn", "precision", "recall", "f1"]
    assert {line.split()[0] for line in lines[2:]} == {
        "phone", "email", "url", "vehicle", "postcode", "handle",
    }  # fmt: skip
