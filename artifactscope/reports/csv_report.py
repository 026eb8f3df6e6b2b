"""CSV output: one row per frame; per-class scores as columns, regions as JSON in one column."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import TextIO

from artifactscope.artifacts import ARTIFACT_NAMES

COLUMNS = ["path", "frame", "time_s", "label", "corrupted", "score",
           *[f"score_{a}" for a in ARTIFACT_NAMES], "regions", "error"]


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet apps run cells that start with these as formulas: a hostile file name must stay text.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def write_csv(results: Iterable, out: TextIO) -> None:
    """Write results as CSV with a header row."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in results:
        d = r.to_dict()
        row = [_cell(d["path"]), d["frame"], d["time_s"], d["label"], d["corrupted"], d["score"],
               *[d["scores"].get(a) for a in ARTIFACT_NAMES],
               json.dumps(d["regions"]) if d["regions"] else "", _cell(d["error"])]
        writer.writerow(["" if v is None else v for v in row])
