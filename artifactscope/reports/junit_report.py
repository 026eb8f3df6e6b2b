"""JUnit XML output for CI: one test case per image or video, failed when a frame of it is flagged.

One ``<testsuite name="artifactscope">``; a ``<testcase>`` per file (classname: its folder, name: its file
name) in the order of the scan. A flagged image gets a ``<failure>`` (message: label and score); a video
gets one ``<failure>`` listing its events (runs of flagged frames, see :mod:`artifactscope.events`). An
unreadable file gets an ``<error>`` with the reader's message. A video with some unreadable frames *and*
artifacts is a failure; its frame errors go to ``<system-err>``. With the scan's thresholds, near misses (clean
frames that scored 0.5 or more) go to the file's ``<system-out>``: the test passes, and they still show.

Each test case is built with :mod:`xml.etree.ElementTree`, which escapes ``& < > " '``; characters that XML 1.0
cannot carry at all (control characters, lone surrogates from undecodable file names) are replaced by
U+FFFD, so any file name gives a valid document.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import TextIO

from artifactscope.events import Event, EventGrouper

__all__ = ["clean_text", "write_junit"]

# Everything outside XML 1.0's Char production: C0 controls but tab/LF/CR, surrogates, U+FFFE/U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

MAX_LINES = 200
"""Most flagged frames (images) or events (videos) listed in one failure's text."""


def clean_text(value) -> str:
    """``str(value)`` with every character XML 1.0 forbids (and HTML cannot show) replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", "" if value is None else str(value))


class _Case:
    """What one test case needs, gathered from its file's results."""

    __slots__ = ("path", "frames", "flagged", "worst_label", "worst_score", "lines", "more", "errors", "error_lines",
                 "is_video", "near", "near_more")

    def __init__(self, path: str) -> None:
        self.path = path
        self.frames = self.flagged = self.errors = self.more = 0
        self.worst_label: str | None = None
        self.worst_score = float("-inf")
        self.lines: list[str] = []
        self.error_lines: list[str] = []
        self.is_video = False
        self.near: list[str] = []  # near misses: clean frames that scored 0.5 or more (see scan.near_miss)
        self.near_more = 0

    def line(self, text: str) -> None:
        if len(self.lines) < MAX_LINES:
            self.lines.append(text)
        else:
            self.more += 1


def _event_line(e: Event) -> str:
    span = f"frame {e.start_frame}" if e.start_frame == e.end_frame else f"frames {e.start_frame}-{e.end_frame}"
    times = ""
    if e.start_time_s is not None and e.end_time_s is not None:
        times = f" ({e.start_time_s:.2f}s" + ("" if e.end_time_s == e.start_time_s else f"-{e.end_time_s:.2f}s") + ")"
    others = ", ".join(f"{k}: {v}" for k, v in e.labels.items()) if len(e.labels) > 1 else ""
    return (f"{span}{times}: {e.label}, peak {e.peak_score:.3f} at frame {e.peak_frame}, "
            f"{e.frames} flagged frame(s)" + (f" [{others}]" if others else ""))


def write_junit(results: Iterable, out: TextIO, *, max_gap: int = 1,
                thresholds: Mapping[str, float] | float | None = None) -> None:
    """Write results as one JUnit XML test suite.

    A scan yields the results of one file together; a test case is finished (and serialised) as soon as the
    next file starts, so memory holds the serialised cases, not every frame. A path that comes back later in
    the stream (given twice on the command line) gets a second test case.

    Parameters
    ----------
    results : iterable of ScanResult
    out : text stream
        Receives the document; its encoding must be UTF-8 (as the XML declaration says).
    max_gap : int
        Event grouping tolerance for videos (see :func:`artifactscope.events.group_events`).
    thresholds : mapping of str to float, float or None
        The thresholds the scan used. When given, a file's near misses (clean frames that scored 0.5 or more
        but stayed below their most likely artifact's threshold) are listed in its ``<system-out>``: the test
        passes, and the CI server still shows what nearly failed it.
    """
    from artifactscope.scan import near_miss

    grouper = EventGrouper(max_gap)
    parts: list[str] = []
    counts = {"tests": 0, "failures": 0, "errors": 0}
    case: _Case | None = None

    def add_events(c: _Case, events: list[Event]) -> None:
        for e in events:
            c.line(_event_line(e))

    def finish(c: _Case) -> None:
        add_events(c, grouper.close(c.path))
        tc = _testcase(c, counts)
        ET.indent(tc, space="  ", level=2)
        parts.append("    " + ET.tostring(tc, encoding="unicode").rstrip() + "\n")

    for r in results:
        if case is None or r.path != case.path:
            if case is not None:
                finish(case)
            case = _Case(r.path)
        if r.frame is not None:
            case.is_video = True
        add_events(case, grouper.add(r))
        if r.error is not None:
            case.errors += 1
            if len(case.error_lines) < MAX_LINES:
                where = f"frame {r.frame}: " if r.frame is not None else ""
                case.error_lines.append(where + r.error)
            continue
        case.frames += 1
        miss = near_miss(r, thresholds)
        if miss is not None:
            if len(case.near) < MAX_LINES:
                where = f"frame {r.frame}: " if r.frame is not None else ""
                case.near.append(f"{where}near miss: {miss[0]} score {float(r.score):.3f}, "
                                 f"below its threshold {miss[1]:.4g}")
            else:
                case.near_more += 1
        if r.corrupted:
            case.flagged += 1
            score = float(r.score) if r.score is not None else 0.0
            if score > case.worst_score:
                case.worst_score, case.worst_label = score, r.label
            if r.frame is None:
                case.line(f"{r.label}, score {score:.3f}")
    if case is not None:
        finish(case)

    n, f, e = counts["tests"], counts["failures"], counts["errors"]
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(f'<testsuites name="artifactscope" tests="{n}" failures="{f}" errors="{e}">\n')
    out.write(f'  <testsuite name="artifactscope" tests="{n}" failures="{f}" errors="{e}" skipped="0">\n')
    out.writelines(parts)
    out.write("  </testsuite>\n</testsuites>\n")


def _testcase(case: _Case, counts: dict) -> ET.Element:
    folder, name = os.path.split(case.path)
    tc = ET.Element("testcase", classname=clean_text(folder or "."), name=clean_text(name or case.path))
    counts["tests"] += 1
    if case.flagged:
        counts["failures"] += 1
        msg = f"{case.worst_label} (score {case.worst_score:.3f})"
        if case.is_video:
            n_events = len(case.lines) + case.more
            msg = f"{n_events} event(s), {case.flagged} of {case.frames} sampled frame(s) flagged; worst: {msg}"
        text = "\n".join(case.lines) + (f"\n... and {case.more} more" if case.more else "")
        fail = ET.SubElement(tc, "failure", message=clean_text(msg), type="artifact")
        fail.text = clean_text(text)
        if case.errors:
            ET.SubElement(tc, "system-err").text = clean_text(_error_text(case))
    elif case.errors:
        counts["errors"] += 1
        first = case.error_lines[0] if case.error_lines else "unreadable"
        msg = first if case.errors == 1 else f"{case.errors} unreadable frame(s); first: {first}"
        err = ET.SubElement(tc, "error", message=clean_text(msg), type="unreadable")
        err.text = clean_text(_error_text(case))
    if case.near:
        more = f"\n... and {case.near_more} more" if case.near_more else ""
        out = ET.Element("system-out")
        out.text = clean_text("\n".join(case.near) + more)
        # JUnit's schema puts <system-out> before <system-err>.
        err_at = [i for i, child in enumerate(tc) if child.tag == "system-err"]
        tc.insert(err_at[0] if err_at else len(tc), out)
    return tc


def _error_text(case: _Case) -> str:
    extra = case.errors - len(case.error_lines)
    return "\n".join(case.error_lines) + (f"\n... and {extra} more" if extra > 0 else "")
