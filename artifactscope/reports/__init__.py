"""Report writers: each takes an iterable of ScanResult and a text stream.

The CLI and the GUI's export use the same writers. Writers stream where the format allows (JSON lines, CSV),
so a huge scan never has to be held in memory for them.
"""

from __future__ import annotations

from artifactscope.reports.csv_report import write_csv
from artifactscope.reports.html_report import write_html
from artifactscope.reports.json_report import SCHEMA_PATH, load_schema, write_json, write_jsonl
from artifactscope.reports.junit_report import write_junit
from artifactscope.reports.table import write_table

WRITERS = {
    "table": write_table,
    "json": write_json,
    "jsonl": write_jsonl,
    "csv": write_csv,
    "html": write_html,
    "junit": write_junit,
}

__all__ = [
    "WRITERS", "SCHEMA_PATH", "load_schema", "write_csv", "write_html", "write_json", "write_jsonl", "write_junit",
    "write_table",
]
