"""The JSON Schema files in schemas/ match the models, and say what the models enforce."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.ingest import schemas
from pipeline.ingest.models import MODELS


def test_committed_schema_files_match_the_models() -> None:
    stale = schemas.check()
    assert not stale, f"run `python -m pipeline.ingest.schemas` to regenerate: {stale}"


def test_check_notices_drift(tmp_path: Path) -> None:
    schemas.write(tmp_path)
    assert schemas.check(tmp_path) == []
    target = tmp_path / "hotline_call.v1.json"
    target.write_text(target.read_text().replace('"summary"', '"summery"'))
    (tmp_path / "public_report.v1.json").unlink()
    assert sorted(schemas.check(tmp_path)) == ["hotline_call.v1.json", "public_report.v1.json"]
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 1


def test_one_file_per_source_and_version_with_required_fields() -> None:
    files = schemas.expected_files()
    assert len(files) == sum(len(v) for v in MODELS.values())
    doc = json.loads(files["online_referral.v1.json"])
    assert sorted(doc["required"]) == ["id", "received_at", "url"]
    assert doc["additionalProperties"] is True
    assert doc["properties"]["received_at"]["format"] == "date-time"
    assert doc["x-kafka-topic"] == "intake.online-referrals"
