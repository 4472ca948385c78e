"""JSON Schema files for upstream teams, generated from the intake models.

`python -m pipeline.ingest.schemas` rewrites `schemas/<source>.v<N>.json`;
`python -m pipeline.ingest.schemas --check` exits 1 when the files have drifted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipeline.ingest.models import MODELS
from pipeline.ingest.sources import TOPIC_BY_SOURCE

__all__ = ["SCHEMA_DIR", "check", "expected_files", "write"]

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
_NOTE = (
    "Generated from pipeline/ingest/models.py by `python -m pipeline.ingest.schemas`; do not edit."
    " Beyond this schema the pipeline enforces: received_at must be RFC 3339 with an offset;"
    " id non-blank and at most 256 UTF-8 bytes; the Kafka key equal to id; the value at most"
    " 512 KiB of UTF-8 JSON nested at most 32 deep; NUL characters are removed from strings."
)


def expected_files() -> dict[str, str]:
    """File name -> exact file content, for every source and version."""
    files: dict[str, str] = {}
    for source, versions in MODELS.items():
        for version, model in versions.items():
            schema: dict[str, Any] = {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": f"{source.value}.v{version}.json",
                **model.model_json_schema(mode="validation"),
            }
            schema["description"] = f"{(model.__doc__ or '').strip()}\n\n{_NOTE}"
            schema["x-kafka-topic"] = TOPIC_BY_SOURCE[source]
            text = json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
            files[f"{source.value}.v{version}.json"] = text
    return files


def write(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema file; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in expected_files().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def check(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of schema files that are missing or differ from the models."""
    return [
        name
        for name, text in expected_files().items()
        if not (directory / name).is_file()
        or (directory / name).read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: write the files, or with --check report drift."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.ingest.schemas", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help="schema directory")
    args = parser.parse_args(argv)
    if args.check:
        stale = check(args.dir)
        for name in stale:
            print(f"{args.dir / name} is out of date", file=sys.stderr)
        return 1 if stale else 0
    for path in write(args.dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
