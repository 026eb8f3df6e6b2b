"""Group consecutive flagged video frames into events.

A glitch that lasts 40 frames is one event, not 40 findings. An event is a run of flagged frames of one video
that follow each other in the *sampled* sequence of that video (with ``--every N`` the samples are frames
0, N, 2N, ...), tolerating short holes: two flagged samples belong to the same event when they are at most
``max_gap`` sampling steps apart, i.e. when at most ``max_gap - 1`` unflagged samples lie between them.
``max_gap=1`` joins only adjacent samples; ``max_gap=2`` bridges one clean (or unreadable) sample, which
helps when the classifier's score flickers around the threshold during one glitch.

Label changes inside a run do **not** split the event. Per-frame labels of one glitch often flicker between
neighbouring classes (shader garbage read as discoloration on a few frames), and splitting on them would
turn one glitch into many events. The event takes the majority label of its flagged frames (ties go to the
label with the higher peak score, then to the label seen first); ``labels`` keeps the count of every label so
that nothing is hidden.

Still images never form events. Grouping is streamed: :class:`EventGrouper` keeps a few numbers per video
and one open event, so a scan of hours of video costs no memory beyond the events themselves.

Pass the full result stream (clean frames included), as the report writers do: the sampled sequence is
learned from it. A stream of flagged frames only still works when the frame indices show the sampling step
(a hole in the indices larger than ``max_gap`` steps splits the event), but the step is then guessed from the
smallest difference between flagged frames seen so far.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

__all__ = ["Event", "EventGrouper", "event_to_dict", "group_events", "iter_events"]


@dataclass
class Event:
    """A run of flagged frames of one video.

    Attributes
    ----------
    path : str
        The video.
    start_frame, end_frame : int
        First and last flagged frame index of the run (inclusive).
    label : str
        Majority artifact label of the run's flagged frames.
    peak_score : float
        Highest corruption score in the run.
    start_time_s, end_time_s : float or None
        Video times of ``start_frame`` and ``end_frame`` (None when the frame rate is unknown).
    frames : int
        Number of flagged sampled frames in the run (bridged clean samples are not counted).
    peak_frame : int or None
        Frame index where ``peak_score`` was reached (the earliest one on a tie).
    labels : dict of str to int
        Flagged frames per label in the run, most frequent first.
    """

    path: str
    start_frame: int
    end_frame: int
    label: str
    peak_score: float
    start_time_s: float | None
    end_time_s: float | None
    frames: int
    peak_frame: int | None = None
    labels: dict[str, int] = field(default_factory=dict)

    @property
    def duration_s(self) -> float | None:
        """Seconds from the first to the last flagged frame (0 for a one-frame event), None when unknown."""
        if self.start_time_s is None or self.end_time_s is None:
            return None
        return self.end_time_s - self.start_time_s


def event_to_dict(event: Event) -> dict:
    """The JSON form of an event (DESIGN.md's ``events`` entries plus times, size and label counts)."""
    return {
        "path": event.path,
        "start_frame": int(event.start_frame),
        "end_frame": int(event.end_frame),
        "label": event.label,
        "peak_score": round(float(event.peak_score), 4),
        "peak_frame": None if event.peak_frame is None else int(event.peak_frame),
        "start_time_s": None if event.start_time_s is None else round(float(event.start_time_s), 4),
        "end_time_s": None if event.end_time_s is None else round(float(event.end_time_s), 4),
        "frames": int(event.frames),
        "labels": dict(event.labels),
    }


class _Run:
    """The open event of one video, being built."""

    __slots__ = ("start_frame", "end_frame", "start_time", "end_time", "frames", "peak", "peak_frame",
                 "counts", "label_peaks", "last_pos")

    def __init__(self, r, pos: int) -> None:
        self.start_frame = self.end_frame = r.frame
        self.start_time = self.end_time = r.time_s
        self.frames = 0
        self.peak = float("-inf")
        self.peak_frame = r.frame
        self.counts: dict[str, int] = {}
        self.label_peaks: dict[str, float] = {}
        self.add(r, pos)

    def add(self, r, pos: int) -> None:
        self.end_frame, self.end_time, self.last_pos = r.frame, r.time_s, pos
        self.frames += 1
        score = float(r.score) if r.score is not None else 0.0
        if score > self.peak:
            self.peak, self.peak_frame = score, r.frame
        label = r.label or "unknown"
        self.counts[label] = self.counts.get(label, 0) + 1
        self.label_peaks[label] = max(self.label_peaks.get(label, float("-inf")), score)

    def to_event(self, path: str) -> Event:
        order = list(self.counts)  # insertion order = first seen
        ranked = sorted(order, key=lambda lb: (-self.counts[lb], -self.label_peaks[lb], order.index(lb)))
        return Event(
            path=path, start_frame=self.start_frame, end_frame=self.end_frame, label=ranked[0],
            peak_score=self.peak, start_time_s=self.start_time, end_time_s=self.end_time, frames=self.frames,
            peak_frame=self.peak_frame, labels={lb: self.counts[lb] for lb in ranked},
        )


class _Video:
    __slots__ = ("pos", "last_frame", "step", "last_flagged_frame", "run")

    def __init__(self) -> None:
        self.pos = -1  # position of the latest sample in the sampled sequence
        self.last_frame: int | None = None
        self.step: int | None = None  # smallest positive difference between consecutive sampled frames
        self.last_flagged_frame: int | None = None
        self.run: _Run | None = None


class EventGrouper:
    """Streamed event grouping: feed every :class:`~artifactscope.scan.ScanResult` to :meth:`add`.

    :meth:`add` returns the events that it closed (an event closes when the next flagged frame of its video
    is too far away); :meth:`finish` closes and returns the rest. Report writers use it to group events in
    the same single pass that collects their other figures.

    Parameters
    ----------
    max_gap : int
        Largest distance, in sampling steps, between two flagged frames of one event (1: adjacent samples).
    """

    def __init__(self, max_gap: int = 1) -> None:
        if max_gap < 1:
            raise ValueError(f"max_gap must be at least 1 sampling step, got {max_gap}")
        self.max_gap = max_gap
        self._videos: dict[str, _Video] = {}

    def add(self, r) -> list[Event]:
        """Take one result; return the events it closed (usually none)."""
        if r.frame is None:  # still images and whole-file errors never form events
            return []
        v = self._videos.get(r.path)
        if v is None:
            v = self._videos[r.path] = _Video()
        v.pos += 1
        if v.last_frame is not None and r.frame > v.last_frame:
            d = r.frame - v.last_frame
            v.step = d if v.step is None else min(v.step, d)
        v.last_frame = r.frame
        if not (r.error is None and r.corrupted):
            return []
        closed: list[Event] = []
        if v.run is not None and not self._joins(v, r.frame):
            closed.append(v.run.to_event(r.path))
            v.run = None
        if v.run is None:
            v.run = _Run(r, v.pos)
        else:
            v.run.add(r, v.pos)
        v.last_flagged_frame = r.frame
        return closed

    def _joins(self, v: _Video, frame: int) -> bool:
        if v.pos - v.run.last_pos > self.max_gap:
            return False
        # Only flagged frames given: the positions are adjacent, the frame indices tell the truth.
        if v.last_flagged_frame is not None and v.step is not None:
            return 0 <= frame - v.last_flagged_frame <= self.max_gap * v.step
        return True

    def close(self, path: str) -> list[Event]:
        """Declare that no more results of video `path` will come: return its open event, forget the video."""
        v = self._videos.pop(path, None)
        return [v.run.to_event(path)] if v is not None and v.run is not None else []

    def finish(self) -> list[Event]:
        """Close every open event and return them (in order of their videos' first sample)."""
        closed = [v.run.to_event(path) for path, v in self._videos.items() if v.run is not None]
        self._videos.clear()
        return closed


def iter_events(results: Iterable, max_gap: int = 1) -> Iterator[Event]:
    """Like :func:`group_events`, but yield each event as soon as it is closed."""
    grouper = EventGrouper(max_gap)
    for r in results:
        yield from grouper.add(r)
    yield from grouper.finish()


def group_events(results: Iterable, max_gap: int = 1) -> list[Event]:
    """Group consecutive flagged video frames into events.

    Parameters
    ----------
    results : iterable of ScanResult
        A scan's results, clean frames included (see the module docstring).
    max_gap : int
        Largest distance, in sampling steps, between two flagged frames of one event.

    Returns
    -------
    list of Event
        Sorted by video (in order of first appearance in `results`) then by start frame.
    """
    order: dict[str, int] = {}

    def watch(rs):
        for r in rs:
            if r.frame is not None and r.path not in order:
                order[r.path] = len(order)
            yield r

    events = list(iter_events(watch(results), max_gap))
    # Events of one video close in order, but a video's last event closes only at the end of the stream.
    events.sort(key=lambda e: (order[e.path], e.start_frame))
    return events
