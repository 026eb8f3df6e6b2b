"""Plain-text table for a terminal: one line per frame and a summary."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO


def _where(r) -> str:
    if r.frame is None:
        return r.path
    t = f" @{r.time_s:.2f}s" if r.time_s is not None else ""
    return f"{r.path} [frame {r.frame}{t}]"


def write_table(results: Iterable, out: TextIO) -> None:
    """Write a human-readable table with a summary line at the end."""
    frames = flagged = errors = 0
    by_label: dict[str, int] = {}
    out.write(f"{'verdict':<18} {'score':>6}  file\n")
    for r in results:
        if r.error is not None:
            errors += 1
            out.write(f"{'ERROR':<18} {'':>6}  {r.error}\n")
        else:
            frames += 1
            if r.corrupted:
                flagged += 1
                by_label[r.label] = by_label.get(r.label, 0) + 1
            verdict = r.label if r.corrupted else "clean"
            out.write(f"{verdict:<18} {r.score:6.3f}  {_where(r)}\n")
        out.flush()
    detail = ", ".join(f"{k}: {v}" for k, v in sorted(by_label.items(), key=lambda kv: -kv[1]))
    out.write(f"\n{frames} frame(s) scanned, {flagged} flagged" + (f" ({detail})" if detail else "")
              + f", {errors} unreadable\n")
