"""JSON output: one array (``json``) or one object per line (``jsonl``), records as in DESIGN.md."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "scan_result.schema.json"


def load_schema() -> dict:
    """The JSON schema of one scan record."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def write_json(results: Iterable, out: TextIO) -> None:
    """Write results as one JSON array, streamed record by record."""
    out.write("[")
    for i, r in enumerate(results):
        out.write(",\n" if i else "\n")
        out.write(json.dumps(r.to_dict(), ensure_ascii=False))
    out.write("\n]\n")


def write_jsonl(results: Iterable, out: TextIO) -> None:
    """Write results as JSON lines (one object per line), flushed as they come."""
    for r in results:
        out.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
        out.flush()
