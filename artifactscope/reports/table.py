"""Plain-text table for a terminal: one line per frame, a summary, and the video events (runs of flagged
frames of one video, as in the HTML and JUnit reports)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TextIO

from artifactscope._terminal import printable
from artifactscope.events import Event, EventGrouper


def _where(r) -> str:
    if r.frame is None:
        return printable(r.path)
    t = f" @{r.time_s:.2f}s" if r.time_s is not None else ""
    return f"{printable(r.path)} [frame {r.frame}{t}]"


def _error_line(r) -> str:
    """Where and why a frame could not be read; the path once (messages no longer start with it, but those in
    results files of earlier versions, read back by ``--resume``, may)."""
    message = str(r.error)
    if message.startswith(f"{r.path}: "):
        message = message[len(r.path) + 2:]
    return f"{_where(r)}: {printable(message)}"


def _event_line(e: Event) -> str:
    span = f"frames {e.start_frame}-{e.end_frame}" if e.end_frame != e.start_frame else f"frame {e.start_frame}"
    if e.start_time_s is not None and e.end_time_s is not None:
        times = f"{e.start_time_s:.2f}" + (f"-{e.end_time_s:.2f}" if e.end_frame != e.start_frame else "")
        span += f" ({times} s)"
    return f"  {e.label:<18} peak {e.peak_score:.3f}  {printable(e.path)} {span}\n"


def write_table(results: Iterable, out: TextIO, *, thresholds: Mapping[str, float] | float | None = None) -> None:
    """Write a human-readable table with a summary line and the video events at the end.

    With the `thresholds` the scan used (the model's per-class ones, or the one ``--threshold``), a frame
    called clean although it scored 0.5 or more says which threshold it stayed below.
    """
    from artifactscope.scan import near_miss

    frames = flagged = errors = 0
    by_label: dict[str, int] = {}
    grouper = EventGrouper()
    events: list[Event] = []
    out.write(f"{'verdict':<18} {'score':>6}  file\n")
    for r in results:
        events.extend(grouper.add(r))
        if r.error is not None:
            errors += 1
            out.write(f"{'ERROR':<18} {'':>6}  {_error_line(r)}\n")
        else:
            frames += 1
            if r.corrupted:
                flagged += 1
                by_label[r.label] = by_label.get(r.label, 0) + 1
            verdict = r.label if r.corrupted else "clean"
            miss = near_miss(r, thresholds)
            note = f"  (below the {miss[0]} threshold {miss[1]:.4g})" if miss else ""
            out.write(f"{verdict:<18} {r.score:6.3f}  {_where(r)}{note}\n")
        out.flush()
    detail = ", ".join(f"{k}: {v}" for k, v in sorted(by_label.items(), key=lambda kv: -kv[1]))
    out.write(f"\n{frames} frame(s) scanned, {flagged} flagged" + (f" ({detail})" if detail else "")
              + f", {errors} unreadable\n")
    events.extend(grouper.finish())
    if events:
        out.write(f"{len(events)} video event(s):\n")
        for e in events:
            out.write(_event_line(e))
